using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>The commands devices and apps send: re-order now, a level, units used.</summary>
public sealed partial class ReplenishmentLedger
{
    private static readonly string OutOfRange = " must be a finite number from 0 to " + Format((long)DeviceRequestParser.MaxQuantity);

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

        if (Safeguard(instruction, now, out var amount) is { } refused)
        {
            return refused;
        }

        var order = Place(actor, instruction, nextOrderRef(), commandRef, amount, now);
        if (instruction.Tracking is { } tracking)
        {
            // A manual re-order covers the low level too: the rule must not order the same item again.
            _journal.Touch(instruction);
            InventoryRule.OrderPlaced(tracking);
            Changed(instruction);
        }

        return new LedgerResult { Id = Placed(order), Instruction = instruction, PlacedOrder = order };
    }

    /// <summary>Records an absolute level and orders once if it reached the trigger point while armed.</summary>
    public LedgerResult ReportLevel(Actor actor, long instructionRef, double level, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        if (!SpecRules.IsAmount(level))
        {
            return LedgerResult.Refused(AckIds.Malformed, "Level" + OutOfRange);
        }

        var resolved = ResolveTracked(actor, instructionRef);
        return resolved.IsSuccess ? ApplyLevel(actor, resolved.Instruction!, level, nextOrderRef, commandRef, now) : resolved;
    }

    /// <summary>Subtracts units used and orders once if that reached the trigger point while armed.</summary>
    public LedgerResult ReportUsage(Actor actor, long instructionRef, double used, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        if (!SpecRules.IsAmount(used))
        {
            return LedgerResult.Refused(AckIds.Malformed, "Used" + OutOfRange);
        }

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

    private LedgerResult ApplyLevel(Actor actor, Instruction instruction, double level, Func<long> nextOrderRef, long commandRef, DateTimeOffset now)
    {
        var tracking = instruction.Tracking!;
        _journal.Touch(instruction);
        var decision = InventoryRule.Apply(tracking, level, now);
        Changed(instruction);
        if (!decision.WantsOrder)
        {
            return new LedgerResult { Id = AckIds.Recorded, Instruction = instruction };
        }

        if (OpenOrderFor(instruction.Ref) is { } open)
        {
            // Stay armed: if that order is cancelled, the next low reading orders.
            return new LedgerResult
            {
                Id = AckIds.Recorded,
                Instruction = instruction,
                BlockingOrder = open,
                Note = $"no new order: order {Format(open.Ref)} for this instruction is still {open.State.ToString().ToLowerInvariant()}",
            };
        }

        if (Safeguard(instruction, now, out var amount) is { } refused)
        {
            // The level is recorded and the rule stays armed: once the pause or the month is over, the next low
            // reading orders.
            return refused;
        }

        var order = Place(actor, instruction, nextOrderRef(), commandRef, amount, now);
        InventoryRule.OrderPlaced(tracking);
        return new LedgerResult { Id = Placed(order), Instruction = instruction, PlacedOrder = order };
    }

    private static int Placed(Order order) => order.State == OrderState.AwaitingApproval ? AckIds.AwaitingApproval : AckIds.OrderPlaced;

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
            return ResolveOnlyInstruction(actor);
        }

        // Another household's instruction is answered exactly as one that does not exist: the caller must not learn
        // which refs are in use elsewhere.
        if (!_instructions.TryGetValue(reference, out var instruction) || instruction.AccountId != actor.AccountId)
        {
            return LedgerResult.Refused(AckIds.UnknownInstruction, $"unknown instruction {Format(reference)}");
        }

        if (actor.DeviceId is not null && !instruction.DeviceIds.Contains(actor.DeviceId))
        {
            return LedgerResult.Refused(AckIds.NotPaired, "the instruction is not paired with this device", instruction);
        }

        return new LedgerResult { Id = AckIds.Recorded, Instruction = instruction };
    }

    private LedgerResult ResolveOnlyInstruction(Actor actor)
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
}
