using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Answers "was this idempotency key already processed inside the window?" for the writer: the current
/// batch's keys, then the committed keys held in memory (<see cref="RecentCommandKeys"/>), and storage only for a
/// replay, a hash collision, or a span memory no longer covers. Writer thread only.</summary>
internal sealed class IdempotencyIndex(IGatewayStore store, TimeSpan window, int startupKeyLimit = IdempotencyIndex.StartupKeyLimit)
{
    /// <summary>Most idempotency keys held in memory (≈ 60 bytes each).</summary>
    internal const int RecentKeyCapacity = 1_000_000;

    private const uint SnapshotMagic = 0x3153_4B50; // "PKS1"
    private readonly Dictionary<string, CommandRecord> _pending = new(StringComparer.Ordinal);
    private readonly RecentCommandKeys _recent = new(RecentKeyCapacity);

    /// <summary>Most keys read from storage at start (≈ 1 s): reading the whole window cost 11.6 s and an 843 MB heap
    /// with 1.1 million commands in it.</summary>
    internal const int StartupKeyLimit = 100_000;

    /// <summary>Fills memory with the window's committed keys, newest first, up to <see cref="StartupKeyLimit"/> (or the
    /// limit given): a window holding more is answered from storage (the key-hash index) for commands older than the
    /// newest loaded, until the keys committed since cover the window — start-up time and memory do not grow with
    /// history. When <paramref name="snapshotPath"/> holds a snapshot <see cref="Save"/> wrote and nothing with a key was
    /// committed since (checked against storage), the whole index comes from it instead; the file is used once.
    /// Returns how many keys the snapshot gave, or null when it was not used.</summary>
    public int? Load(DateTimeOffset now, string? snapshotPath = null)
    {
        var since = now - window;
        if (snapshotPath is not null && TryRestore(snapshotPath, since) is { } restored)
        {
            return restored;
        }

        var keys = store.RecentCommandKeys(since, startupKeyLimit);
        _recent.Start(since, keys, startupKeyLimit);
        return null;
    }

    /// <summary>Writes the index to <paramref name="path"/> (flushed to disk, then renamed into place) for the next
    /// start. Only when nothing commits any more: the writer has stopped.</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using var writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(SnapshotMagic);
            _recent.WriteTo(writer);
            writer.Flush();
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    // The snapshot is valid only if it holds the newest command with a key in storage: a command committed after it
    // was written (by a run that crashed later, or in a restored backup) would be missing from it and replayed as new.
    // (A clock set back across the restart could hide such a command behind an older one's time; it would then be
    // answered from storage only if its key was older than the snapshot's coverage.)
    private int? TryRestore(string path, DateTimeOffset since)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new BinaryReader(file);
            if (reader.ReadUInt32() != SnapshotMagic)
            {
                return null;
            }

            _recent.ReadFrom(reader);
            var newest = store.RecentCommandKeys(DateTimeOffset.MinValue, 1);
            var holdsNewest = newest.Count == 0
                ? _recent.Count == 0
                : _recent.Find(newest[0].Key, newest[0].At, out var sequence) == RecentCommandKeys.Answer.Candidate && sequence == newest[0].Sequence;
            if (!holdsNewest)
            {
                return null;
            }

            _recent.Trim(since);
            return _recent.Count;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            Forget(path);
        }
    }

    // A snapshot left behind is harmless (the next start checks it against storage again), so failing to delete it
    // must not stop this one.
    private static void Forget(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Every committed key at or after this time is held in memory.</summary>
    internal DateTimeOffset CoveredSince => _recent.CoveredSince;

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
