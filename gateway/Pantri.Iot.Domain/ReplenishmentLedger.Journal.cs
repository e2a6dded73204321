namespace Pantri.Iot.Domain;

/// <summary>Commands as units: everything changed since the last <see cref="AcceptChanges"/> can be undone with
/// <see cref="RollbackCommand"/>, so a command that fails half-way leaves no trace and no other household's state has
/// to be reloaded.</summary>
public sealed partial class ReplenishmentLedger
{
    private readonly CommandJournal _journal = new();

    /// <summary>Ends the current command: its changes stay. Forgets <see cref="PendingChanges"/> (the caller has taken
    /// them) and the undo journal.</summary>
    public void AcceptChanges()
    {
        _changes.Clear();
        _journal.Clear();
    }

    /// <summary>Undoes the current command: every entity changed since the last <see cref="AcceptChanges"/> gets its
    /// state back (in the same object, so references others hold see it too), entities it created disappear, the
    /// indexes follow, and <see cref="PendingChanges"/> is emptied.</summary>
    public void RollbackCommand()
    {
        for (var i = _journal.Count - 1; i >= 0; i--)
        {
            var entry = _journal[i];
            switch (entry.Entity)
            {
                case Instruction instruction:
                    Undo(instruction, (InstructionSnapshot?)entry.Before);
                    break;
                case Order order:
                    Undo(order, (OrderSnapshot?)entry.Before);
                    break;
                case Device device:
                    Undo(device, (DeviceSnapshot?)entry.Before);
                    break;
                case Household household:
                    Undo(household, (HouseholdSnapshot?)entry.Before);
                    break;
                case HouseholdUser user:
                    Undo(user, (UserSnapshot?)entry.Before);
                    break;
                case PairingCode code:
                    Undo(code, (PairingCodeSnapshot?)entry.Before);
                    break;
                case HouseholdSafeguards safeguards:
                    Undo(safeguards, (SafeguardsSnapshot?)entry.Before);
                    break;
            }
        }

        _journal.Clear();
        _changes.Clear();
    }

    private void Undo(Instruction instruction, InstructionSnapshot? before)
    {
        if (before is null)
        {
            foreach (var deviceId in instruction.DeviceIds)
            {
                UnindexPairing(instruction.Ref, deviceId);
            }

            _instructions.Remove(instruction.Ref);
            return;
        }

        // A removed instruction comes back (its pairings were emptied when it was removed, so the loop below re-indexes
        // them); only pairings that differ are touched, so the device index keeps its order.
        _instructions[instruction.Ref] = instruction;
        foreach (var deviceId in instruction.DeviceIds)
        {
            if (!Contains(before.DeviceIds, deviceId))
            {
                UnindexPairing(instruction.Ref, deviceId);
            }
        }

        foreach (var deviceId in before.DeviceIds)
        {
            if (!instruction.DeviceIds.Contains(deviceId))
            {
                IndexPairing(instruction.Ref, deviceId);
            }
        }

        before.Restore(instruction);
    }

    private void Undo(Order order, OrderSnapshot? before)
    {
        before?.Restore(order);
        if (before is { WasOpen: true })
        {
            _openOrders[order.Ref] = order;
            _openOrdersByInstruction[order.InstructionRef] = order;
            return;
        }

        if (_openOrders.TryGetValue(order.Ref, out var open) && ReferenceEquals(open, order))
        {
            _openOrders.Remove(order.Ref);
        }

        if (_openOrdersByInstruction.TryGetValue(order.InstructionRef, out var byInstruction) && ReferenceEquals(byInstruction, order))
        {
            _openOrdersByInstruction.Remove(order.InstructionRef);
        }
    }

    private void Undo(Device device, DeviceSnapshot? before)
    {
        if (before is not null)
        {
            before.Restore(device);
        }
        else if (_devices.TryGetValue(device.DeviceId, out var known) && ReferenceEquals(known, device))
        {
            _devices.Remove(device.DeviceId);
        }
    }

    // A household or user the command created disappears; one it changed or removed is restored and is there again.
    private void Undo(Household household, HouseholdSnapshot? before)
    {
        if (before is null)
        {
            if (_households.TryGetValue(household.AccountId, out var known) && ReferenceEquals(known, household))
            {
                _households.Remove(household.AccountId);
            }

            return;
        }

        before.Restore(household);
        _households[household.AccountId] = household;
    }

    private void Undo(HouseholdUser user, UserSnapshot? before)
    {
        if (before is null)
        {
            if (_users.TryGetValue(user.Key, out var known) && ReferenceEquals(known, user))
            {
                _users.Remove(user.Key);
            }

            return;
        }

        before.Restore(user);
        _users[user.Key] = user;
    }

    private void Undo(HouseholdSafeguards safeguards, SafeguardsSnapshot? before)
    {
        if (before is not null)
        {
            before.Restore(safeguards);
        }
        else if (_safeguards.TryGetValue(safeguards.AccountId, out var known) && ReferenceEquals(known, safeguards))
        {
            _safeguards.Remove(safeguards.AccountId);
        }
    }

    private void UnindexPairing(long instructionRef, string deviceId)
    {
        if (_instructionsByDevice.TryGetValue(deviceId, out var refs) && refs.Remove(instructionRef) && refs.Count == 0)
        {
            _instructionsByDevice.Remove(deviceId);
        }
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // Every recorded change must have been journaled first; a change that was not could not be undone.
    private void EnsureJournaled(object entity)
    {
        if (!_journal.Contains(entity))
        {
            throw new InvalidOperationException("The ledger changed an entity without journaling it first; it could not be rolled back.");
        }
    }
}
