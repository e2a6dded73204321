using System.Globalization;

namespace Pantri.Iot.Domain;

/// <summary>The household state that decides every command and owns every change to it: which device may touch
/// which instruction, whether an order is open, the inventory rule, and setup (devices, instructions, pairing,
/// tracking). Each change is recorded in <see cref="PendingChanges"/> for the caller to store and publish, and
/// journaled so that a command can be undone (<see cref="RollbackCommand"/>). Input is validated here, once, whatever
/// the entry: a bad value is refused with 400 before anything changes. Not
/// thread-safe by design: one writer applies commands in order, so "one press or one low level makes exactly one
/// order" holds without locks, however commands race.</summary>
public sealed partial class ReplenishmentLedger
{
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Instruction> _instructions = [];
    private readonly Dictionary<string, List<long>> _instructionsByDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Order> _openOrdersByInstruction = [];
    private readonly Dictionary<long, Order> _openOrders = [];
    private readonly Dictionary<string, Household> _households = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HouseholdUser> _users = new(StringComparer.Ordinal);
    private readonly List<LedgerChange> _changes = [];
    private readonly Dictionary<string, HouseholdSafeguards> _safeguards = new(StringComparer.Ordinal);

    /// <summary>Builds the ledger from stored state; closed orders are not needed.</summary>
    public ReplenishmentLedger(IEnumerable<Device> devices, IEnumerable<Instruction> instructions, IEnumerable<Order> orders, IEnumerable<HouseholdSafeguards>? safeguards = null)
        : this([], [], devices, instructions, orders, null, safeguards)
    {
    }

    /// <summary>Builds the ledger from stored state, households and users included; closed orders are not needed.</summary>
    public ReplenishmentLedger(IEnumerable<Household> households, IEnumerable<HouseholdUser> users, IEnumerable<Device> devices, IEnumerable<Instruction> instructions, IEnumerable<Order> orders, IEnumerable<PairingCode>? pairingCodes = null, IEnumerable<HouseholdSafeguards>? safeguards = null)
    {
        foreach (var code in pairingCodes ?? [])
        {
            _pairingCodes[code.CodeHash] = code;
        }

        foreach (var household in safeguards ?? [])
        {
            _safeguards[household.AccountId] = household;
        }

        ArgumentNullException.ThrowIfNull(households);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(devices);
        foreach (var household in households)
        {
            _households[household.AccountId] = household;
        }

        foreach (var user in users)
        {
            _users[user.Key] = user;
        }

        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(orders);
        foreach (var device in devices)
        {
            _devices[device.DeviceId] = device;
        }

        foreach (var instruction in instructions)
        {
            Index(instruction);
        }

        foreach (var order in orders.Where(o => o.IsOpen))
        {
            _openOrders[order.Ref] = order;
            _openOrdersByInstruction[order.InstructionRef] = order;
        }
    }

    /// <summary>All devices.</summary>
    public IReadOnlyDictionary<string, Device> Devices => _devices;

    /// <summary>All households.</summary>
    public IReadOnlyDictionary<string, Household> Households => _households;

    /// <summary>All users and operators, by <see cref="HouseholdUser.Key"/>.</summary>
    public IReadOnlyDictionary<string, HouseholdUser> Users => _users;

    /// <summary>All instructions.</summary>
    public IReadOnlyDictionary<long, Instruction> Instructions => _instructions;

    /// <summary>Changes made since the last <see cref="AcceptChanges"/> (or <see cref="RollbackCommand"/>), oldest first.</summary>
    public IReadOnlyList<LedgerChange> PendingChanges => _changes;

    /// <summary>The open order of an instruction, if any.</summary>
    public Order? OpenOrderFor(long instructionRef) => _openOrdersByInstruction.GetValueOrDefault(instructionRef);

    /// <summary>The instructions of a household.</summary>
    public IEnumerable<Instruction> InstructionsOf(string accountId) => _instructions.Values.Where(i => i.AccountId == accountId);

    /// <summary>The instruction <paramref name="instructionRef"/> when it belongs to <paramref name="accountId"/>.</summary>
    public Instruction? InstructionOf(string accountId, long instructionRef) =>
        _instructions.TryGetValue(instructionRef, out var instruction) && instruction.AccountId == accountId ? instruction : null;

    private bool IsDeviceOf(string accountId, string deviceId) =>
        _devices.TryGetValue(deviceId, out var device) && device.AccountId == accountId && !device.IsRevoked;

    private void Changed(Device device)
    {
        EnsureJournaled(device);
        _changes.Add(new DeviceChanged(device));
    }

    private void Changed(Household household, bool removed = false)
    {
        EnsureJournaled(household);
        _changes.Add(new HouseholdChanged(household, removed));
    }

    private void Changed(HouseholdUser user, bool removed = false)
    {
        EnsureJournaled(user);
        _changes.Add(new UserChanged(user, removed));
    }

    private void Changed(Instruction instruction)
    {
        EnsureJournaled(instruction);
        _changes.Add(new InstructionChanged(instruction));
    }

    private void Changed(HouseholdSafeguards safeguards)
    {
        EnsureJournaled(safeguards);
        _changes.Add(new HouseholdSafeguardsChanged(safeguards));
    }

    private void Changed(Order order, bool publish = true)
    {
        EnsureJournaled(order);
        _changes.Add(new OrderChanged(order, _instructions.GetValueOrDefault(order.InstructionRef), publish));
    }

    private void Index(Instruction instruction)
    {
        _instructions[instruction.Ref] = instruction;
        foreach (var deviceId in instruction.DeviceIds)
        {
            IndexPairing(instruction.Ref, deviceId);
        }
    }

    private void IndexPairing(long instructionRef, string deviceId)
    {
        if (!_instructionsByDevice.TryGetValue(deviceId, out var refs))
        {
            _instructionsByDevice[deviceId] = refs = [];
        }

        if (!refs.Contains(instructionRef))
        {
            refs.Add(instructionRef);
        }
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
