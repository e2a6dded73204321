using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Events;
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
    private readonly List<HouseholdEvent> _events = [];
    private readonly List<Device> _deviceChanges = [];
    private readonly Dictionary<long, Instruction> _inventoryChanged = [];

    // The current command's marks: what it added to the batch, so that a failed command can be taken out again.
    private readonly List<string> _devicesAdded = [];
    private readonly List<long> _instructionsAdded = [];
    private readonly List<long> _ordersAdded = [];
    private readonly List<string> _safeguardsAdded = [];
    private readonly List<long> _inventoryAdded = [];
    private readonly List<LedgerChange> _identityChanges = [];

    // Setup changes that delete (households, users, instructions) put back what they displaced in the batch when their
    // command is abandoned. Only setup calls add here, never device commands.
    private readonly List<Action> _batchUndo = [];
    private int _identityChangesMark;
    private int _auditMark;
    private readonly HashSet<(string Subject, string Change)> _audited = [];
    private IAuditedCommand? _auditedCommand;
    private int _commandsMark;
    private int _outboundMark;
    private int _eventsMark;
    private int _deviceChangesMark;
    private int _changesTaken;
    private bool _metaChangedMark;
    private bool _metaChanged;
    private bool _poisoned;

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

    /// <summary>Household, user and operator changes of this batch, in order (applied to the identity directory after
    /// the commit).</summary>
    internal IReadOnlyList<LedgerChange> IdentityChanges => _identityChanges;

    /// <summary>Messages to publish once this batch is committed.</summary>
    internal IReadOnlyList<OutboundMessage> Outbound => _outbound;

    /// <summary>Households' safeguards changed in this batch (applied to the webhook directory after the commit).</summary>
    internal IEnumerable<HouseholdSafeguards> SafeguardChanges => _batch.Safeguards.Values;

    /// <summary>Household events to deliver once this batch is committed.</summary>
    internal IReadOnlyList<HouseholdEvent> Events => _events;

    /// <summary>True when a household has an open event stream: events are only built for households that listen, so
    /// the hot path pays nothing for them otherwise.</summary>
    internal Func<string, bool> Listening { get; set; } = static _ => false;

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

    /// <summary>Tells a household's open event streams, after the commit, about something of the current command
    /// (a refusal by a safeguard). Cheap when nobody listens.</summary>
    public void Notify(string accountId, string type, Func<ReadOnlyMemory<byte>> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Listening(accountId))
        {
            _events.Add(new HouseholdEvent(accountId, type, data()));
        }
    }

    /// <summary>Audits the current command's changes on behalf of <paramref name="command"/>; null (device commands)
    /// audits nothing.</summary>
    internal void AuditAs(IAuditedCommand? command) => _auditedCommand = command;

    /// <summary>Stores <see cref="Meta"/> with this batch.</summary>
    public void MetaChanged() => _metaChanged = true;

    internal void Begin(DateTimeOffset now)
    {
        Now = now;
        _batch.Clear();
        _outbound.Clear();
        _events.Clear();
        _deviceChanges.Clear();
        _identityChanges.Clear();
        _inventoryChanged.Clear();
        _idempotency.BeginBatch();
        _metaChanged = false;
        _poisoned = false;
    }

    /// <summary>Marks where the next command starts in the batch, the outbound list and the idempotency index.</summary>
    internal void BeginCommand()
    {
        _commandsMark = _batch.Commands.Count;
        _outboundMark = _outbound.Count;
        _eventsMark = _events.Count;
        _deviceChangesMark = _deviceChanges.Count;
        _identityChangesMark = _identityChanges.Count;
        _auditMark = _batch.Audit.Count;
        _auditedCommand = null;
        _audited.Clear();
        _batchUndo.Clear();
        _metaChangedMark = _metaChanged;
        _changesTaken = 0;
        _devicesAdded.Clear();
        _instructionsAdded.Clear();
        _ordersAdded.Clear();
        _safeguardsAdded.Clear();
        _inventoryAdded.Clear();
    }

    /// <summary>The command is decided: its changes join the batch and the ledger's undo journal is cleared.</summary>
    internal void EndCommand()
    {
        TakeLedgerChanges();
        Ledger.AcceptChanges();
        _changesTaken = 0;
    }

    /// <summary>The command threw: takes out of the batch, the outbound list and the idempotency index what it put
    /// there, and has the ledger undo its changes, so the rest of the batch commits as if it had never run. When the
    /// ledger cannot undo them, the batch is refused at <see cref="Seal"/> (its state can no longer be trusted) and
    /// this throws; the writer then reloads.</summary>
    internal void AbandonCommand()
    {
        foreach (var deviceId in _devicesAdded)
        {
            _batch.Devices.Remove(deviceId);
        }

        foreach (var reference in _instructionsAdded)
        {
            _batch.Instructions.Remove(reference);
        }

        foreach (var reference in _ordersAdded)
        {
            _batch.Orders.Remove(reference);
        }

        foreach (var accountId in _safeguardsAdded)
        {
            _batch.Safeguards.Remove(accountId);
        }

        foreach (var reference in _inventoryAdded)
        {
            _inventoryChanged.Remove(reference);
        }

        for (var i = _batchUndo.Count - 1; i >= 0; i--)
        {
            _batchUndo[i]();
        }

        _batchUndo.Clear();
        _identityChanges.RemoveRange(_identityChangesMark, _identityChanges.Count - _identityChangesMark);
        _batch.Audit.RemoveRange(_auditMark, _batch.Audit.Count - _auditMark);
        _outbound.RemoveRange(_outboundMark, _outbound.Count - _outboundMark);
        _events.RemoveRange(_eventsMark, _events.Count - _eventsMark);
        _deviceChanges.RemoveRange(_deviceChangesMark, _deviceChanges.Count - _deviceChangesMark);
        _metaChanged = _metaChangedMark;
        _changesTaken = 0;
        if (_batch.Commands.Count > _commandsMark)
        {
            // Rare: the command recorded itself before it threw. Later commands must not find its RequestId.
            _batch.Commands.RemoveRange(_commandsMark, _batch.Commands.Count - _commandsMark);
            _idempotency.BeginBatch();
            foreach (var record in _batch.Commands)
            {
                _idempotency.Pending(record);
            }
        }

        try
        {
            Ledger.RollbackCommand();
        }
        catch
        {
            _poisoned = true;
            throw;
        }
    }

    /// <summary>The batch to commit, with the retained inventory of every tracked instruction it changed built once,
    /// from its final state, after the batch's other messages: ops only ever keeps the last value.</summary>
    internal WriteBatch Seal()
    {
        if (_poisoned)
        {
            throw new InvalidOperationException("A failed command could not be undone; its batch is not committed and the state is reloaded.");
        }

        foreach (var instruction in _inventoryChanged.Values)
        {
            _outbound.Add(OutboundMessages.Inventory(instruction, Now));
        }

        _inventoryChanged.Clear();
        // The transactional outbox, from each order's final state in this batch: a placed order and its queued
        // submission commit together, and the entry goes in the same commit that moves the order on.
        foreach (var order in _batch.Orders.Values)
        {
            if (order.State == OrderState.Placed)
            {
                // Queued from when it became Placed: an order approved late still gets its retailer's whole deadline.
                var placedAt = order.History.FindLast(h => h.State == OrderState.Placed)?.At ?? order.CreatedAt;
                _batch.Outbox[order.Ref] = new OutboxEntry { OrderRef = order.Ref, Retailer = order.Retailer, QueuedAt = placedAt };
            }
            else
            {
                _batch.OutboxDone.Add(order.Ref);
            }
        }

        _batch.Meta = _metaChanged ? Meta : null;
        return _batch;
    }

    internal void Committed() => _idempotency.Committed(_batch.Commands, Now);

    internal void Reload(ReplenishmentLedger ledger, GatewayMeta meta)
    {
        Ledger = ledger;
        Meta = meta;
    }

    // Takes the changes the ledger recorded since the last call of this command, noting which batch entries the
    // command added: the ledger's entities are updated in place, so an entry that was there already stays.
    private void TakeLedgerChanges()
    {
        var changes = Ledger.PendingChanges;
        for (var i = _changesTaken; i < changes.Count; i++)
        {
            if (_auditedCommand is not null)
            {
                Audit(changes[i]);
            }

            switch (changes[i])
            {
                case DeviceChanged { Device: var device }:
                    if (_batch.Devices.TryAdd(device.DeviceId, device))
                    {
                        _devicesAdded.Add(device.DeviceId);
                    }

                    _deviceChanges.Add(device);
                    break;
                case InstructionChanged { Instruction: var instruction }:
                    if (_batch.Instructions.TryAdd(instruction.Ref, instruction))
                    {
                        _instructionsAdded.Add(instruction.Ref);
                    }

                    if (instruction.Tracking is not null && _inventoryChanged.TryAdd(instruction.Ref, instruction))
                    {
                        _inventoryAdded.Add(instruction.Ref);
                    }

                    break;
                case InstructionRemoved { Instruction: var removed }:
                    RemoveInstruction(removed.Ref);
                    break;
                case HouseholdChanged { Household: var household, Removed: var removed }:
                    Put(_batch.Households, household.AccountId, removed ? null : household);
                    _identityChanges.Add(changes[i]);
                    break;
                case PairingCodeChanged { Code: var code, Removed: var removed }:
                    Put(_batch.PairingCodes, code.CodeHash, removed ? null : code);
                    break;
                case UserChanged { User: var user, Removed: var removed }:
                    Put(_batch.Users, user.Key, removed ? null : user);
                    _identityChanges.Add(changes[i]);
                    break;
                case HouseholdSafeguardsChanged { Safeguards: var safeguards }:
                    if (_batch.Safeguards.TryAdd(safeguards.AccountId, safeguards))
                    {
                        _safeguardsAdded.Add(safeguards.AccountId);
                    }

                    break;
                case OrderChanged { Order: var order, Instruction: var instruction, Publish: var publish }:
                    if (_batch.Orders.TryAdd(order.Ref, order))
                    {
                        _ordersAdded.Add(order.Ref);
                    }

                    if (publish)
                    {
                        var first = _outbound.Count;
                        _outbound.AddRange(OutboundMessages.Order(order, instruction));
                        if (Listening(order.AccountId))
                        {
                            // The same bytes as the ops message: no second serialisation.
                            var type = order.State == OrderState.AwaitingApproval ? HouseholdEventTypes.ApprovalRequested : HouseholdEventTypes.Order;
                            _events.Add(new HouseholdEvent(order.AccountId, type, _outbound[first].Payload));
                        }
                    }

                    break;
            }
        }

        _changesTaken = changes.Count;
    }

    // One line per entity and kind of change per command (a household's deletion touches each of its entities once).
    private void Audit(LedgerChange change)
    {
        var (account, subject, removed) = change switch
        {
            DeviceChanged { Device: var d } => (d.AccountId, "device " + d.DeviceId, d.IsRevoked),
            InstructionChanged { Instruction: var i } => (i.AccountId, "instruction " + Ref(i.Ref), false),
            InstructionRemoved { Instruction: var i } => (i.AccountId, "instruction " + Ref(i.Ref), true),
            HouseholdChanged { Household: var h, Removed: var r } => (h.AccountId, "household " + h.AccountId, r),
            UserChanged { User: var u, Removed: var r } => (u.AccountId, (u.Role == UserRole.Ops ? "ops user " : "user ") + u.UserId, r),
            PairingCodeChanged { Code: var c, Removed: var r } => (c.AccountId, "pairing code for " + c.DeviceName, r),
            OrderChanged { Order: var o } => (o.AccountId, "order " + Ref(o.Ref) + " " + o.State, false),
            _ => (string.Empty, change.GetType().Name, false),
        };
        var kind = removed ? "removed" : "changed";
        if (_audited.Add((subject, kind)))
        {
            _batch.Audit.Add(new AuditEntry { AccountId = account, At = Now, By = _auditedCommand!.By, Action = _auditedCommand.GetType().Name, Subject = subject, Change = kind });
        }
    }

    private static string Ref(long reference) => reference.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Upsert (or, for null, delete) in the batch, remembering what was there for an abandoned command.
    private void Put<TKey, TValue>(Dictionary<TKey, TValue?> entries, TKey key, TValue? value)
        where TKey : notnull
        where TValue : class
    {
        var had = entries.TryGetValue(key, out var previous);
        _batchUndo.Add(() =>
        {
            if (had)
            {
                entries[key] = previous;
            }
            else
            {
                entries.Remove(key);
            }
        });
        entries[key] = value;
    }

    private void RemoveInstruction(long reference)
    {
        var hadUpsert = _batch.Instructions.Remove(reference, out var upsert);
        var hadInventory = _inventoryChanged.Remove(reference, out var inventory);
        var added = _batch.InstructionsDeleted.Add(reference);
        _batchUndo.Add(() =>
        {
            if (added)
            {
                _batch.InstructionsDeleted.Remove(reference);
            }

            if (hadUpsert)
            {
                _batch.Instructions[reference] = upsert!;
            }

            if (hadInventory)
            {
                _inventoryChanged[reference] = inventory!;
            }
        });
    }
}
