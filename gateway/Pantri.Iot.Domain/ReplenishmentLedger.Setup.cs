using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Setup: the changes a household makes to its devices and instructions.</summary>
public sealed partial class ReplenishmentLedger
{
    private const int RefAttempts = 16;
    private static readonly FieldError MissingBody = new("body", "a JSON object is required");

    /// <summary>Creates an instruction, paired with devices of the same household and optionally tracked. Its ref
    /// is the first of <paramref name="nextRef"/>'s values that no instruction has.</summary>
    public LedgerOutcome<Instruction> CreateInstruction(string accountId, InstructionSpec spec, Func<long> nextRef, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nextRef);
        if (spec is null)
        {
            return LedgerOutcome.Invalid<Instruction>(MissingBody);
        }

        if (spec.Validate() is { } invalid)
        {
            return LedgerOutcome.Invalid<Instruction>(invalid);
        }

        // An unknown device and another household's answer alike.
        if (spec.DeviceIds.FirstOrDefault(id => !IsDeviceOf(accountId, id)) is { } stranger)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.NotPaired, $"device {stranger} is not in this account");
        }

        var instruction = new Instruction
        {
            Ref = FreeInstructionRef(nextRef),
            AccountId = accountId,
            Product = spec.Product,
            Retailer = spec.Retailer,
            Quantity = spec.Quantity,
            DeviceIds = spec.DeviceIds.Distinct(StringComparer.Ordinal).ToList(),
            Tracking = spec.Tracking is null ? null : Configure(new Tracking(), spec.Tracking, now),
        };
        _journal.Added(instruction);
        Index(instruction);
        Changed(instruction);
        return LedgerOutcome.Done(instruction, 201);
    }

    /// <summary>Pairs a device of the household with one of its instructions.</summary>
    public LedgerOutcome<Instruction> Pair(string accountId, long instructionRef, string deviceId)
    {
        if (!DeviceIds.IsValid(deviceId))
        {
            return LedgerOutcome.Invalid<Instruction>(new FieldError("DeviceId", DeviceIdRule));
        }

        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "unknown instruction");
        }

        if (!IsDeviceOf(accountId, deviceId))
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.NotPaired, "the device is not in this account");
        }

        if (!instruction.DeviceIds.Contains(deviceId))
        {
            if (instruction.DeviceIds.Count >= InstructionSpec.MaxDevices)
            {
                return LedgerOutcome.Invalid<Instruction>(new FieldError("DeviceId", $"an instruction is paired with at most {InstructionSpec.MaxDevices} devices"));
            }

            _journal.Touch(instruction);
            instruction.DeviceIds.Add(deviceId);
            IndexPairing(instruction.Ref, deviceId);
            Changed(instruction);
        }

        return LedgerOutcome.Done(instruction);
    }

    /// <summary>Unpairs a device from one of the household's instructions.</summary>
    public LedgerOutcome<Instruction> Unpair(string accountId, long instructionRef, string deviceId)
    {
        if (InstructionOf(accountId, instructionRef) is not { } instruction || !instruction.DeviceIds.Contains(deviceId))
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "unknown instruction or device not paired");
        }

        _journal.Touch(instruction);
        instruction.DeviceIds.Remove(deviceId);
        UnindexPairing(instruction.Ref, deviceId);
        Changed(instruction);
        return LedgerOutcome.Done(instruction);
    }

    /// <summary>Changes what an instruction orders: product, retailer, quantity (each only when given). Devices are not
    /// involved: their next press orders the new product from the new retailer.</summary>
    public LedgerOutcome<Instruction> UpdateInstruction(string accountId, long instructionRef, string? product, string? retailer, int? quantity)
    {
        var invalid = (product is null ? null : SpecRules.Text(product, "Product", InstructionSpec.MaxTextLength))
            ?? (retailer is null ? null : SpecRules.Text(retailer, "Retailer", InstructionSpec.MaxTextLength))
            ?? (quantity is { } q ? SpecRules.Whole(q, "Quantity", 1, InstructionSpec.MaxQuantity) : null);
        if (invalid is not null)
        {
            return LedgerOutcome.Invalid<Instruction>(invalid);
        }

        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "unknown instruction");
        }

        _journal.Touch(instruction);
        instruction.Product = product ?? instruction.Product;
        instruction.Retailer = retailer ?? instruction.Retailer;
        instruction.Quantity = quantity ?? instruction.Quantity;
        Changed(instruction);
        return LedgerOutcome.Done(instruction);
    }

    /// <summary>Deletes an instruction. Its orders stay (an open one carries on to its end); its devices are unpaired.</summary>
    public LedgerOutcome<Instruction> DeleteInstruction(string accountId, long instructionRef)
    {
        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "unknown instruction");
        }

        _journal.Touch(instruction);
        foreach (var deviceId in instruction.DeviceIds)
        {
            UnindexPairing(instruction.Ref, deviceId);
        }

        // Emptied so that an undo re-indexes the pairings it restores.
        instruction.DeviceIds.Clear();
        _instructions.Remove(instruction.Ref);
        // An open order keeps its own copy of product, retailer and quantity and carries on; refs are never reused.
        EnsureJournaled(instruction);
        _changes.Add(new InstructionRemoved(instruction));
        return LedgerOutcome.Done(instruction);
    }

    /// <summary>Sets the user's trigger point and tracking settings; tracking starts if it was off.</summary>
    public LedgerOutcome<Instruction> ConfigureTracking(string accountId, long instructionRef, TrackingSpec spec, DateTimeOffset now)
    {
        if (spec is null)
        {
            return LedgerOutcome.Invalid<Instruction>(MissingBody);
        }

        if (spec.Validate() is { } invalid)
        {
            return LedgerOutcome.Invalid<Instruction>(invalid);
        }

        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "unknown instruction");
        }

        _journal.Touch(instruction);
        instruction.Tracking = Configure(instruction.Tracking ?? new Tracking(), spec, now);
        Changed(instruction);
        return LedgerOutcome.Done(instruction);
    }

    private static Tracking Configure(Tracking tracking, TrackingSpec spec, DateTimeOffset now)
    {
        tracking.ReorderAt = spec.ReorderAt;
        tracking.Unit = spec.Unit;
        tracking.UnitsPerPack = spec.UnitsPerPack;
        tracking.Hysteresis = spec.Hysteresis;
        tracking.Debounce = spec.Debounce;
        if (spec.Level is { } level)
        {
            InventoryRule.Apply(tracking, level, now);
        }

        return tracking;
    }

    private long FreeInstructionRef(Func<long> nextRef)
    {
        for (var attempt = 0; attempt < RefAttempts; attempt++)
        {
            var reference = nextRef();
            if (!_instructions.ContainsKey(reference))
            {
                return reference;
            }
        }

        throw new InvalidOperationException("No free Instruction_Ref among the refs offered.");
    }
}
