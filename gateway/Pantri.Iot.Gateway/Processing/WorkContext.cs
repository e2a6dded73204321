using Pantri.Iot.Broker;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Processing;

/// <summary>What a unit of work sees on the writer thread: the ledger, the batch it adds writes to, refs, time,
/// and the messages to publish once the batch is committed.</summary>
public sealed class WorkContext
{
    private readonly Dictionary<string, CommandRecord> _pendingKeys = new(StringComparer.Ordinal);

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

    /// <summary>The command already processed under <paramref name="key"/> since <paramref name="since"/>.</summary>
    public CommandRecord? FindCommand(string key, DateTimeOffset since)
    {
        var found = _pendingKeys.GetValueOrDefault(key) ?? Store.FindCommand(key);
        return found is not null && found.At >= since ? found : null;
    }

    internal void Reset(DateTimeOffset now)
    {
        Now = now;
        Batch.Clear();
        Outbound.Clear();
        DeviceChanges.Clear();
        _pendingKeys.Clear();
    }
}
