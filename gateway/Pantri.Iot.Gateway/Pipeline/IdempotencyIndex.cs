using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Answers "was this idempotency key already processed inside the window?" for the writer: the current
/// batch's keys, then the committed keys held in memory (<see cref="RecentCommandKeys"/>), and storage only for a
/// replay, a hash collision, or a span memory no longer covers. Writer thread only.</summary>
internal sealed class IdempotencyIndex(IGatewayStore store, TimeSpan window, int startupKeyLimit = IdempotencyIndex.StartupKeyLimit)
{
    /// <summary>Most idempotency keys held in memory (≈ 60 bytes each).</summary>
    internal const int RecentKeyCapacity = 1_000_000;

    private readonly Dictionary<string, CommandRecord> _pending = new(StringComparer.Ordinal);
    private readonly RecentCommandKeys _recent = new(RecentKeyCapacity);

    /// <summary>Most keys read from storage at start (≈ 1 s): reading the whole window cost 11.6 s and an 843 MB heap
    /// with 1.1 million commands in it.</summary>
    internal const int StartupKeyLimit = 100_000;

    /// <summary>Fills memory with the window's committed keys, newest first, up to <see cref="StartupKeyLimit"/> (or the limit given): a
    /// window holding more is answered from storage (the key-hash index) for commands older than the newest loaded, until
    /// the keys committed since cover the window again — start-up time and memory do not grow with history.</summary>
    public void Load(DateTimeOffset now)
    {
        var since = now - window;
        _recent.Start(since, store.RecentCommandKeys(since, startupKeyLimit), startupKeyLimit);
    }

    /// <summary>The command processed under <paramref name="key"/> inside the window ending at <paramref name="now"/>.</summary>
    public CommandRecord? Find(string key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var since = now - window;
        var found = _pending.GetValueOrDefault(key) ?? FindCommitted(key, since);
        return found is not null && found.At >= since ? found : null;
    }

    /// <summary>A command of the current batch: later commands of the batch must see its key.</summary>
    public void Pending(CommandRecord record)
    {
        if (record.IdempotencyKey is { } key)
        {
            _pending[key] = record;
        }
    }

    /// <summary>Adds keys another gateway instance committed (a shared store), so their resends are replayed here.</summary>
    public void Merge(IEnumerable<(string Key, long Sequence, DateTimeOffset At)> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (key, sequence, at) in keys)
        {
            _recent.Add(key, sequence, at);
        }
    }

    /// <summary>Starts a batch.</summary>
    public void BeginBatch() => _pending.Clear();

    /// <summary>The batch is committed: its keys now exist in storage. Keys that left the window are forgotten.</summary>
    public void Committed(IEnumerable<CommandRecord> records, DateTimeOffset now)
    {
        foreach (var record in records)
        {
            if (record.IdempotencyKey is { } key)
            {
                _recent.Add(key, record.Sequence, record.At);
            }
        }

        _recent.Trim(now - window);
        _pending.Clear();
    }

    private CommandRecord? FindCommitted(string key, DateTimeOffset since)
    {
        switch (_recent.Find(key, since, out var sequence))
        {
            case RecentCommandKeys.Answer.None:
                return null;
            case RecentCommandKeys.Answer.Candidate:
                var candidate = store.FindCommandBySequence(sequence);
                return candidate?.IdempotencyKey == key ? candidate : store.FindCommandByKey(key);
            default:
                return store.FindCommandByKey(key);
        }
    }
}
