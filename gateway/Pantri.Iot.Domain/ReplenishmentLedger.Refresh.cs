namespace Pantri.Iot.Domain;

public sealed partial class ReplenishmentLedger
{
    /// <summary>Takes in entities another writer stored (gateway instances sharing one database), replacing this
    /// ledger's copies: a device, an instruction with its pairings, an order opened or closed elsewhere. Called between
    /// commands only (nothing is journaled or recorded: these changes are already stored).</summary>
    public void Refresh(IEnumerable<Device> devices, IEnumerable<Instruction> instructions, IEnumerable<Order> orders, IEnumerable<HouseholdSafeguards>? safeguards = null)
    {
        foreach (var household in safeguards ?? [])
        {
            _safeguards[household.AccountId] = household;
        }

        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(orders);
        foreach (var device in devices)
        {
            _devices[device.DeviceId] = device;
        }

        foreach (var instruction in instructions)
        {
            if (_instructions.TryGetValue(instruction.Ref, out var old))
            {
                foreach (var deviceId in old.DeviceIds)
                {
                    if (_instructionsByDevice.TryGetValue(deviceId, out var refs))
                    {
                        refs.Remove(old.Ref);
                    }
                }
            }

            Index(instruction);
        }

        foreach (var order in orders)
        {
            if (_openOrders.Remove(order.Ref, out var was) && _openOrdersByInstruction.TryGetValue(was.InstructionRef, out var current) && current.Ref == order.Ref)
            {
                _openOrdersByInstruction.Remove(was.InstructionRef);
            }

            if (order.IsOpen)
            {
                _openOrders[order.Ref] = order;
                _openOrdersByInstruction[order.InstructionRef] = order;
            }
        }
    }
}
