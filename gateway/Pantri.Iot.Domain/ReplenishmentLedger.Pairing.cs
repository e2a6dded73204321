using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Pairing codes: a household asks for one; a new device presents it (through the provisioning identity) and
/// becomes a device of that household, paired with the code's instructions. Single use: redeeming removes it.</summary>
public sealed partial class ReplenishmentLedger
{
    /// <summary>Most unexpired codes one household may hold at once.</summary>
    public const int MaxPairingCodesPerHousehold = 10;

    private readonly Dictionary<string, PairingCode> _pairingCodes = new(StringComparer.Ordinal);

    /// <summary>All pairing codes, by hash.</summary>
    public IReadOnlyDictionary<string, PairingCode> PairingCodes => _pairingCodes;

    /// <summary>Makes a pairing code of a household, valid until <paramref name="expiresAt"/>, for a device named
    /// <paramref name="deviceName"/> paired with <paramref name="instructionRefs"/> (instructions of the household).
    /// The household's expired codes are removed first.</summary>
    public LedgerOutcome<PairingCode> CreatePairingCode(string accountId, string codeHash, string deviceName, IReadOnlyList<long> instructionRefs, string createdBy, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(instructionRefs);
        if (SpecRules.Text(deviceName, "Name", MaxNameLength) is { } invalid)
        {
            return LedgerOutcome.Invalid<PairingCode>(invalid);
        }

        if (instructionRefs.Count > InstructionSpec.MaxDevices)
        {
            return LedgerOutcome.Invalid<PairingCode>(new FieldError("Instruction_Refs", $"at most {InstructionSpec.MaxDevices} instructions"));
        }

        if (HouseholdOf(accountId) is null)
        {
            return LedgerOutcome.Refused<PairingCode>(AckIds.UnknownInstruction, "unknown household");
        }

        // Another household's instruction answers like an unknown one.
        foreach (var reference in instructionRefs)
        {
            if (InstructionOf(accountId, reference) is null)
            {
                return LedgerOutcome.Refused<PairingCode>(AckIds.UnknownInstruction, $"unknown instruction {Format(reference)}");
            }
        }

        foreach (var expired in _pairingCodes.Values.Where(c => c.AccountId == accountId && c.ExpiresAt <= now).ToList())
        {
            Remove(expired);
        }

        if (_pairingCodes.Values.Count(c => c.AccountId == accountId) >= MaxPairingCodesPerHousehold)
        {
            return LedgerOutcome.Refused<PairingCode>(AckIds.TooFast, $"a household holds at most {MaxPairingCodesPerHousehold} unused pairing codes; wait until one is used or expires");
        }

        if (_pairingCodes.ContainsKey(codeHash))
        {
            return LedgerOutcome.Refused<PairingCode>(AckIds.Conflict, "code collision; ask again");
        }

        var code = new PairingCode
        {
            CodeHash = codeHash,
            AccountId = accountId,
            DeviceName = deviceName,
            InstructionRefs = instructionRefs.Distinct().ToList(),
            CreatedBy = createdBy,
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        _journal.Added(code);
        _pairingCodes[codeHash] = code;
        Changed(code);
        return LedgerOutcome.Done(code, 201);
    }

    /// <summary>Redeems a pairing code: creates the device <paramref name="deviceId"/> with <paramref name="keyHash"/>
    /// in the code's household, pairs it with the code's instructions that still exist, and removes the code. An unknown,
    /// used or expired code is refused with 404, all alike.</summary>
    public LedgerOutcome<Device> RedeemPairingCode(string codeHash, string deviceId, string keyHash, DateTimeOffset now)
    {
        if (!_pairingCodes.TryGetValue(codeHash, out var code))
        {
            return LedgerOutcome.Refused<Device>(AckIds.UnknownInstruction, "unknown, used or expired pairing code");
        }

        Remove(code);
        if (code.ExpiresAt <= now || HouseholdOf(code.AccountId) is null)
        {
            return LedgerOutcome.Refused<Device>(AckIds.UnknownInstruction, "unknown, used or expired pairing code");
        }

        var created = CreateDevice(code.AccountId, deviceId, code.DeviceName, keyHash, now);
        if (!created.IsSuccess)
        {
            return created;
        }

        foreach (var reference in code.InstructionRefs)
        {
            if (InstructionOf(code.AccountId, reference) is not null)
            {
                Pair(code.AccountId, reference, deviceId);
            }
        }

        return created;
    }

    private void Remove(PairingCode code)
    {
        _journal.Touch(code);
        _pairingCodes.Remove(code.CodeHash);
        EnsureJournaled(code);
        _changes.Add(new PairingCodeChanged(code, Removed: true));
    }

    private void Changed(PairingCode code)
    {
        EnsureJournaled(code);
        _changes.Add(new PairingCodeChanged(code, Removed: false));
    }

    private void Undo(PairingCode code, PairingCodeSnapshot? before)
    {
        if (before is null)
        {
            if (_pairingCodes.TryGetValue(code.CodeHash, out var known) && ReferenceEquals(known, code))
            {
                _pairingCodes.Remove(code.CodeHash);
            }

            return;
        }

        before.Restore(code);
        _pairingCodes[code.CodeHash] = code;
    }
}
