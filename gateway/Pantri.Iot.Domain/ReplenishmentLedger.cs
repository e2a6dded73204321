using System.Globalization;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>The household state that decides every command: which device may touch which instruction, whether an
/// order is open, and the inventory rule. Not thread-safe by design: one writer applies commands in order, so
/// "one press or one low level makes exactly one order" holds without locks, however commands race.</summary>
public sealed class ReplenishmentLedger
{
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Instruction> _instructions = [];
    private readonly Dictionary<string, List<long>> _instructionsByDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Order> _openOrdersByInstruction = [];
    private readonly Dictionary<long, Order> _openOrders = [];

    /// <summary>Builds the ledger from stored state; closed orders are not needed.</summary>
    public ReplenishmentLedger(IEnumerable<Device> devices, IEnumerable<Instruction> instructions, IEnumerable<Order> orders)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(orders);
        foreach (var device in devices)
        {
            _devices[device.DeviceId] = device;
        }

        foreach (var instruction in instructions)
        {
            PutInstruction(instruction);
        }

        foreach (var order in orders.Where(o => o.IsOpen))
        {
            _openOrders[order.Ref] = order;
            _openOrdersByInstruction[order.InstructionRef] = order;
        }
    }

    /// <summary>All devices.</summary>
    public IReadOnlyDictionary<string, Device> Devices => _devices;

    /// <summary>All instructions.</summary>
    public IReadOnlyDictionary<long, Instruction> Instructions => _instructions;

    /// <summary>The open order of an instruction, if any.</summary>
    public Order? OpenOrderFor(long instructionRef) => _openOrdersByInstruction.GetValueOrDefault(instructionRef);

    /// <summary>An open order by its ref.</summary>
    public Order? FindOpenOrder(long orderRef) => _openOrders.GetValueOrDefault(orderRef);

    /// <summary>Adds or replaces a device.</summary>
    public void PutDevice(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _devices[device.DeviceId] = device;
    }

    /// <summary>Adds or replaces an instruction, re-indexing its paired devices.</summary>
    public void PutInstruction(Instruction instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        if (_instructions.TryGetValue(instruction.Ref, out var old))
        {
            foreach (var deviceId in old.DeviceIds)
            {
                _instructionsByDevice.GetValueOrDefault(deviceId)?.Remove(old.Ref);
            }
        }

        _instructions[instruction.Ref] = instruction;
        foreach (var deviceId in instruction.DeviceIds)
        {
            if (!_instructionsByDevice.TryGetValue(deviceId, out var refs))
            {
                _instructionsByDevice[deviceId] = refs = [];
            }

            if (!refs.Contains(instruction.Ref))
            {
                refs.Add(instruction.Ref);
            }
        }
    }

    /// <summary>Re-orders an instruction on demand (a button press, an app). One open order per instruction.</summary>
    public LedgerResult Trigger(Actor actor, long? instructionRef, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(nextOrderRef);
        var resolved = Resolve(actor, instructionRef);
        if (resolved.Instruction is not { } instruction || !resolved.IsSuccess)
        {
            return resolved;
        }

        if (OpenOrderFor(instruction.Ref) is { } open)
        {
            return LedgerResult.Refused(AckIds.Conflict, $"order {Format(open.Ref)} for this instruction is already {open.State.ToString().ToLowerInvariant()}", instruction, open);
        }

        var order = Place(actor, instruction, nextOrderRef(), commandRef, now);
        var changed = false;
        if (instruction.Tracking is { } tracking)
        {
            // A manual re-order covers the low level too: the rule must not order the same item again.
            InventoryRule.OrderPlaced(tracking);
            changed = true;
        }

        return new LedgerResult { Id = AckIds.OrderPlaced, Instruction = instruction, PlacedOrder = order, InstructionChanged = changed };
    }

    /// <summary>Records an absolute level and orders once if it reached the trigger point while armed.</summary>
    public LedgerResult ReportLevel(Actor actor, long instructionRef, double level, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        var resolved = ResolveTracked(actor, instructionRef);
        if (!resolved.IsSuccess)
        {
            return resolved;
        }

        return ApplyLevel(actor, resolved.Instruction!, level, nextOrderRef, commandRef, now);
    }

    /// <summary>Subtracts units used and orders once if that reached the trigger point while armed.</summary>
    public LedgerResult ReportUsage(Actor actor, long instructionRef, double used, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        var resolved = ResolveTracked(actor, instructionRef);
        if (!resolved.IsSuccess)
        {
            return resolved;
        }

        var instruction = resolved.Instruction!;
        if (instruction.Tracking!.Level is not { } level)
        {
            return LedgerResult.Refused(AckIds.Conflict, "the level is not known yet; send a level report first", instruction);
        }

        return ApplyLevel(actor, instruction, Math.Max(0, level - used), nextOrderRef, commandRef, now);
    }

    /// <summary>Moves an open order to a new state. Delivery of a tracked item raises its level by the packs ordered.</summary>
    public OrderMoveResult MoveOrder(string accountId, long orderRef, OrderState to, string by, DateTimeOffset now)
    {
        if (!_openOrders.TryGetValue(orderRef, out var order) || order.AccountId != accountId)
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        if (!OrderLifecycle.CanMove(order.State, to))
        {
            return new OrderMoveResult(OrderMoveOutcome.NotAllowed, order, null);
        }

        order.State = to;
        order.UpdatedAt = now;
        order.History.Add(new OrderTransition { State = to, At = now, By = by });
        Instruction? changed = null;
        if (!order.IsOpen)
        {
            _openOrders.Remove(order.Ref);
            _openOrdersByInstruction.Remove(order.InstructionRef);
            if (to == OrderState.Delivered
                && _instructions.TryGetValue(order.InstructionRef, out var instruction)
                && instruction.Tracking is { UnitsPerPack: { } perPack, Level: { } level } tracking)
            {
                InventoryRule.Apply(tracking, level + (perPack * order.Quantity), now);
                changed = instruction;
            }
        }

        return new OrderMoveResult(OrderMoveOutcome.Moved, order, changed);
    }

    private LedgerResult ApplyLevel(Actor actor, Instruction instruction, double level, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        var tracking = instruction.Tracking!;
        var decision = InventoryRule.Apply(tracking, level, now);
        if (!decision.WantsOrder)
        {
            return new LedgerResult { Id = AckIds.Recorded, Instruction = instruction, InstructionChanged = true };
        }

        if (OpenOrderFor(instruction.Ref) is { } open)
        {
            // Stay armed: if that order is cancelled, the next low reading orders.
            return new LedgerResult
            {
                Id = AckIds.Recorded,
                Instruction = instruction,
                InstructionChanged = true,
                BlockingOrder = open,
                Note = $"no new order: order {Format(open.Ref)} for this instruction is still {open.State.ToString().ToLowerInvariant()}",
            };
        }

        var order = Place(actor, instruction, nextOrderRef(), commandRef, now);
        InventoryRule.OrderPlaced(tracking);
        return new LedgerResult { Id = AckIds.OrderPlaced, Instruction = instruction, PlacedOrder = order, InstructionChanged = true };
    }

    private Order Place(Actor actor, Instruction instruction, long orderRef, long commandRef, DateTimeOffset now)
    {
        var order = new Order
        {
            Ref = orderRef,
            InstructionRef = instruction.Ref,
            AccountId = instruction.AccountId,
            DeviceId = actor.DeviceId,
            Origin = actor.Origin,
            CommandRef = commandRef,
            State = OrderState.Placed,
            Product = instruction.Product,
            Retailer = instruction.Retailer,
            Quantity = instruction.Quantity,
            CreatedAt = now,
            UpdatedAt = now,
            History = [new OrderTransition { State = OrderState.Placed, At = now, By = actor.DeviceId ?? actor.Origin }],
        };
        _openOrders[order.Ref] = order;
        _openOrdersByInstruction[order.InstructionRef] = order;
        return order;
    }

    private LedgerResult ResolveTracked(Actor actor, long instructionRef)
    {
        var resolved = Resolve(actor, instructionRef);
        if (resolved.IsSuccess && resolved.Instruction!.Tracking is null)
        {
            return LedgerResult.Refused(AckIds.Conflict, "this instruction is not tracked; set a trigger point first", resolved.Instruction);
        }

        return resolved;
    }

    private LedgerResult Resolve(Actor actor, long? instructionRef)
    {
        if (instructionRef is not { } reference)
        {
            if (actor.DeviceId is null)
            {
                return LedgerResult.Refused(AckIds.Malformed, "Instruction_Ref is required");
            }

            var refs = _instructionsByDevice.GetValueOrDefault(actor.DeviceId);
            return refs?.Count switch
            {
                1 => Resolve(actor, refs[0]),
                null or 0 => LedgerResult.Refused(AckIds.NotPaired, "this device has no paired instruction"),
                _ => LedgerResult.Refused(AckIds.Malformed, $"this device has {refs.Count} instructions; name one with Instruction_Ref"),
            };
        }

        if (!_instructions.TryGetValue(reference, out var instruction))
        {
            return LedgerResult.Refused(AckIds.UnknownInstruction, $"unknown instruction {Format(reference)}");
        }

        if (instruction.AccountId != actor.AccountId)
        {
            return LedgerResult.Refused(AckIds.NotPaired, "the instruction is not in this account");
        }

        if (actor.DeviceId is not null && !instruction.DeviceIds.Contains(actor.DeviceId))
        {
            return LedgerResult.Refused(AckIds.NotPaired, "the instruction is not paired with this device", instruction);
        }

        return new LedgerResult { Id = AckIds.Recorded, Instruction = instruction };
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What happened to an order move.</summary>
public enum OrderMoveOutcome
{
    /// <summary>The order moved.</summary>
    Moved,

    /// <summary>No open order of that ref in that account.</summary>
    NotOpen,

    /// <summary>The lifecycle does not allow that move.</summary>
    NotAllowed,
}

/// <summary>The result of <see cref="ReplenishmentLedger.MoveOrder"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Order">The order, when found.</param>
/// <param name="ChangedInstruction">The instruction whose level a delivery raised.</param>
public sealed record OrderMoveResult(OrderMoveOutcome Outcome, Order? Order, Instruction? ChangedInstruction);
