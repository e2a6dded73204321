using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Device lifecycle: create, rename, rotate the key, revoke. The gateway assigns DeviceIds, so a household
/// never chooses (nor probes) one; a revoked device keeps its record so its id is never given out again and its orders
/// still name it.</summary>
public sealed partial class ReplenishmentLedger
{
    private const string DeviceIdRule = "must match ^[a-z0-9][a-z0-9-]{2,63}$ and not start ops- or prov-";

    /// <summary>The household's device <paramref name="deviceId"/>, unless revoked; another household's answers null
    /// exactly like an unknown one.</summary>
    public Device? DeviceOf(string accountId, string deviceId) =>
        _devices.TryGetValue(deviceId, out var device) && device.AccountId == accountId && !device.IsRevoked ? device : null;

    /// <summary>The household's devices that are not revoked.</summary>
    public IEnumerable<Device> DevicesOf(string accountId) => _devices.Values.Where(d => d.AccountId == accountId && !d.IsRevoked);

    /// <summary>The instructions a device is paired with.</summary>
    public IReadOnlyList<long> InstructionsPairedWith(string deviceId) =>
        _instructionsByDevice.TryGetValue(deviceId, out var refs) ? refs : [];

    /// <summary>Creates a device named after its id (the demo household, tests).</summary>
    public LedgerOutcome<Device> CreateDevice(string accountId, string deviceId, string keyHash, DateTimeOffset now) =>
        CreateDevice(accountId, deviceId, deviceId, keyHash, now);

    /// <summary>Creates a device of a household with the hash of its key.</summary>
    /// <remarks>DeviceIds are one namespace across households (an id is also an MQTT client id). The gateway draws
    /// them at random, so a taken id is a collision the caller retries with another; the answer (409) never says
    /// whose it is.</remarks>
    public LedgerOutcome<Device> CreateDevice(string accountId, string deviceId, string name, string keyHash, DateTimeOffset now)
    {
        if (!DeviceIds.IsValid(deviceId))
        {
            return LedgerOutcome.Invalid<Device>(new FieldError("DeviceId", DeviceIdRule));
        }

        if (SpecRules.Text(name, "Name", MaxNameLength) is { } invalid)
        {
            return LedgerOutcome.Invalid<Device>(invalid);
        }

        if (_devices.ContainsKey(deviceId))
        {
            return LedgerOutcome.Refused<Device>(AckIds.Conflict, "this DeviceId is not available; choose another");
        }

        var device = new Device { DeviceId = deviceId, AccountId = accountId, Name = name, KeyHash = keyHash, CreatedAt = now };
        _journal.Added(device);
        _devices[deviceId] = device;
        Changed(device);
        return LedgerOutcome.Done(device, 201);
    }

    /// <summary>Renames a device of the household.</summary>
    public LedgerOutcome<Device> RenameDevice(string accountId, string deviceId, string name)
    {
        if (SpecRules.Text(name, "Name", MaxNameLength) is { } invalid)
        {
            return LedgerOutcome.Invalid<Device>(invalid);
        }

        if (DeviceOf(accountId, deviceId) is not { } device)
        {
            return UnknownDevice();
        }

        _journal.Touch(device);
        device.Name = name;
        Changed(device);
        return LedgerOutcome.Done(device);
    }

    /// <summary>Replaces a device's key; the old one stops working when this commits (the gateway then closes the
    /// device's live connection).</summary>
    public LedgerOutcome<Device> RotateDeviceKey(string accountId, string deviceId, string keyHash, DateTimeOffset now)
    {
        if (DeviceOf(accountId, deviceId) is not { } device)
        {
            return UnknownDevice();
        }

        _journal.Touch(device);
        device.KeyHash = keyHash;
        device.KeyRotatedAt = now;
        Changed(device);
        return LedgerOutcome.Done(device);
    }

    /// <summary>Revokes (deletes) a device: its key is dropped, it is unpaired from every instruction, its record and
    /// its orders stay.</summary>
    public LedgerOutcome<Device> RevokeDevice(string accountId, string deviceId, DateTimeOffset now)
    {
        if (DeviceOf(accountId, deviceId) is not { } device)
        {
            return UnknownDevice();
        }

        foreach (var reference in InstructionsPairedWith(deviceId).ToList())
        {
            var instruction = _instructions[reference];
            _journal.Touch(instruction);
            instruction.DeviceIds.Remove(deviceId);
            UnindexPairing(reference, deviceId);
            Changed(instruction);
        }

        _journal.Touch(device);
        device.KeyHash = string.Empty;
        device.RevokedAt = now;
        Changed(device);
        return LedgerOutcome.Done(device);
    }

    private static LedgerOutcome<Device> UnknownDevice() => LedgerOutcome.Refused<Device>(AckIds.UnknownInstruction, "unknown device");
}
