using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>One batch on the writer thread: what a command sees (the ledger, time, refs, rate limits, idempotency)
/// and the one place that turns what the ledger recorded into the storage batch and the messages published after the
/// commit. A command changes state only through the ledger's methods and <see cref="Record"/>; it never touches the
/// batch or the outbound list.</summary>
public sealed class UnitOfWork
{
    private readonly RefAllocator _refs;
    private readonly IdempotencyIndex _idempotency;
    private readonly WriteBatch _batch = new();
    private readonly List<OutboundMessage> _outbound = [];
    private readonly List<Device> _deviceChanges = [];
    private readonly Dictionary<long, Instruction> _inventoryChanged = [];
    private bool _metaChanged;

    internal UnitOfWork(RefAllocator refs, TokenBucketLimiter limiter, IdempotencyIndex idempotency, ReplenishmentLedger ledger, GatewayMeta meta)
    {
        _refs = refs;
        Limiter = limiter;
        _idempotency = idempotency;
        Ledger = ledger;
        Meta = meta;
    }

    /// <summary>The household state; every change goes through its methods.</summary>
    public ReplenishmentLedger Ledger { get; private set; }

    /// <summary>Installation values; change them, then call <see cref="MetaChanged"/>.</summary>
    public GatewayMeta Meta { get; private set; }

    /// <summary>Per-device (or per-app-account) rate limits.</summary>
    public TokenBucketLimiter Limiter { get; }

    /// <summary>The time of the current batch.</summary>
    public DateTimeOffset Now { get; private set; }

    /// <summary>Devices whose credentials changed in this batch (applied to the directory after the commit).</summary>
    internal IReadOnlyList<Device> DeviceChanges => _deviceChanges;

    /// <summary>Messages to publish once this batch is committed.</summary>
    internal IReadOnlyList<OutboundMessage> Outbound => _outbound;

    /// <summary>A new unique ref (orders, instructions).</summary>
    public long NextRef() => _refs.Next();

    /// <summary>A new command's sequence and CommandRef.</summary>
    public CommandId NextCommandId()
    {
        var reference = _refs.Next(out var sequence);
        return new CommandId(sequence, reference);
    }

    /// <summary>The command already processed under <paramref name="idempotencyKey"/> inside the idempotency window
    /// (this batch included), if any.</summary>
    public CommandRecord? FindCommand(string idempotencyKey) => _idempotency.Find(idempotencyKey, Now);

    /// <summary>Adds a processed command to the batch.</summary>
    public void Record(CommandRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _batch.Commands.Add(record);
        _idempotency.Pending(record);
    }

    /// <summary>Publishes a message of the current command after the commit, behind what its ledger changes publish.</summary>
    public void Publish(OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        TakeLedgerChanges();
        _outbound.Add(message);
    }

    /// <summary>Stores <see cref="Meta"/> with this batch.</summary>
    public void MetaChanged() => _metaChanged = true;

    internal void Begin(DateTimeOffset now)
    {
        Now = now;
        _batch.Clear();
        _outbound.Clear();
        _deviceChanges.Clear();
        _inventoryChanged.Clear();
        _idempotency.BeginBatch();
        _metaChanged = false;
    }

    internal void EndCommand() => TakeLedgerChanges();

    // A failed command's partial changes are never stored; the writer reloads the ledger before the next batch.
    internal void AbandonCommand() => Ledger.AcceptChanges();

    /// <summary>The batch to commit, with the retained inventory of every tracked instruction it changed built once,
    /// from its final state, after the batch's other messages: ops only ever keeps the last value.</summary>
    internal WriteBatch Seal()
    {
        foreach (var instruction in _inventoryChanged.Values)
        {
            _outbound.Add(OutboundMessages.Inventory(instruction, Now));
        }

        _inventoryChanged.Clear();
        _batch.Meta = _metaChanged ? Meta : null;
        return _batch;
    }

    internal void Committed() => _idempotency.Committed(_batch.Commands, Now);

    internal void Reload(ReplenishmentLedger ledger, GatewayMeta meta)
    {
        Ledger = ledger;
        Meta = meta;
    }

    private void TakeLedgerChanges()
    {
        foreach (var change in Ledger.PendingChanges)
        {
            switch (change)
            {
                case DeviceChanged { Device: var device }:
                    _batch.Devices[device.DeviceId] = device;
                    _deviceChanges.Add(device);
                    break;
                case InstructionChanged { Instruction: var instruction }:
                    _batch.Instructions[instruction.Ref] = instruction;
                    if (instruction.Tracking is not null)
                    {
                        _inventoryChanged[instruction.Ref] = instruction;
                    }

                    break;
                case OrderChanged { Order: var order, Instruction: var instruction }:
                    _batch.Orders[order.Ref] = order;
                    _outbound.AddRange(OutboundMessages.Order(order, instruction));
                    break;
            }
        }

        Ledger.AcceptChanges();
    }
}
