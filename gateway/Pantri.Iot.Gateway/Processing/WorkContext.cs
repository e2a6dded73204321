using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Processing;

/// <summary>What a unit of work sees on the writer thread: the ledger, the batch it adds writes to, refs, time,
/// and the messages to publish once the batch is committed.</summary>
public sealed class WorkContext
{
    /// <summary>Most idempotency keys held in memory (≈ 60 bytes each).</summary>
    internal const int RecentKeyCapacity = 1_000_000;

    private readonly Dictionary<string, CommandRecord> _pendingKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<OutboundMessage>> _latest = new(StringComparer.Ordinal);
    private readonly RecentCommandKeys _recentKeys = new(RecentKeyCapacity);

    internal WorkContext(IGatewayStore store, RefAllocator refs, TokenBucketLimiter limiter, ReplenishmentLedger ledger, GatewayMeta meta)
    {
        Store = store;
        Refs = refs;
        Limiter = limiter;
        Ledger = ledger;
        Meta = meta;
    }

    /// <summary>The household state.</summary>
    public ReplenishmentLedger Ledger { get; internal set; }

    /// <summary>Installation values.</summary>
    public GatewayMeta Meta { get; internal set; }

    /// <summary>Writes of the current batch.</summary>
    public WriteBatch Batch { get; } = new();

    /// <summary>Read access for lookups.</summary>
    public IGatewayStore Store { get; }

    /// <summary>Rate limits.</summary>
    public TokenBucketLimiter Limiter { get; }

    /// <summary>Messages to publish after the commit.</summary>
    public List<OutboundMessage> Outbound { get; } = [];

    /// <summary>Queues a retained message of which only the batch's last state matters (inventory): built once, at
    /// the end of the batch, after the batch's other messages, however many commands of the batch changed it.</summary>
    public void PublishLatest(string topic, Func<OutboundMessage> build)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(build);
        _latest[topic] = build;
    }

    /// <summary>Builds the <see cref="PublishLatest"/> messages into <see cref="Outbound"/>; on the writer thread,
    /// before the next batch changes the state they read.</summary>
    internal void BuildLatest()
    {
        foreach (var build in _latest.Values)
        {
            Outbound.Add(build());
        }

        _latest.Clear();
    }

    /// <summary>Devices whose credentials change after the commit.</summary>
    public List<Device> DeviceChanges { get; } = [];

    /// <summary>The time of the current batch.</summary>
    public DateTimeOffset Now { get; internal set; }

    internal RefAllocator Refs { get; }

    /// <summary>A new unique ref.</summary>
    public long NextRef() => Refs.Next();

    /// <summary>Adds a command record to the batch and remembers its idempotency key for the rest of the batch.</summary>
    public void Record(CommandRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Batch.Commands.Add(record);
        if (record.IdempotencyKey is { } key)
        {
            _pendingKeys[key] = record;
        }
    }

    /// <summary>The command already processed under <paramref name="key"/> since <paramref name="since"/>. A key
    /// never seen is answered from memory when it is covered (<see cref="RecentCommandKeys"/>); storage is read only
    /// for a replay, a hash collision, or a span memory no longer covers.</summary>
    public CommandRecord? FindCommand(string key, DateTimeOffset since)
    {
        ArgumentNullException.ThrowIfNull(key);
        var found = _pendingKeys.GetValueOrDefault(key);
        if (found is null)
        {
            switch (_recentKeys.Find(key, since, out var candidate))
            {
                case RecentCommandKeys.Answer.None:
                    return null;
                case RecentCommandKeys.Answer.Candidate:
                    found = Store.FindCommand(candidate);
                    if (found?.IdempotencyKey != key)
                    {
                        found = Store.FindCommand(key);
                    }

                    break;
                default:
                    found = Store.FindCommand(key);
                    break;
            }
        }

        return found is not null && found.At >= since ? found : null;
    }

    /// <summary>Fills the in-memory key index from storage, covering <paramref name="since"/> onwards when the store
    /// can list its recent keys (otherwise every lookup reads storage, as before).</summary>
    internal void LoadRecentKeys(DateTimeOffset since)
    {
        if (Store is IRecentCommandKeys recent)
        {
            _recentKeys.Start(since, recent.RecentCommandKeys(since, RecentKeyCapacity));
        }
    }

    /// <summary>Call after the batch is committed: its keys now exist in storage. Keys older than
    /// <paramref name="forgetBefore"/> are dropped from memory.</summary>
    internal void Committed(DateTimeOffset forgetBefore)
    {
        foreach (var record in Batch.Commands)
        {
            if (record.IdempotencyKey is { } key)
            {
                _recentKeys.Add(key, record.CommandRef, record.At);
            }
        }

        _recentKeys.Trim(forgetBefore);
    }

    internal void Reset(DateTimeOffset now)
    {
        Now = now;
        Batch.Clear();
        Outbound.Clear();
        DeviceChanges.Clear();
        _pendingKeys.Clear();
        _latest.Clear();
    }
}
