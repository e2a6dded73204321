using System.Collections.Concurrent;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Security;

/// <summary>Device credentials in memory, for CONNECT and HTTP without a storage read. Written by the command
/// writer after each commit, read by any thread. It holds its own copies: the ledger changes its devices in place
/// before the commit (and undoes changes of a failed command), and a key must not work — nor stop working — before
/// its change is committed. Tells <see cref="IDeviceCredentialEvents"/> what changed.</summary>
public sealed class DeviceDirectory(IEnumerable<IDeviceCredentialEvents> events) : IDeviceAuthenticator
{
    private readonly ConcurrentDictionary<string, Device> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _idByKeyHash = new(StringComparer.Ordinal);
    private readonly IDeviceCredentialEvents[] _events = events.ToArray();

    /// <inheritdoc/>
    public bool IsValid(string deviceId, string deviceKey) =>
        _byId.TryGetValue(deviceId, out var device) && !device.IsRevoked && DeviceKeys.Matches(deviceKey, device.KeyHash);

    /// <summary>The device a key belongs to (HTTP <c>Device_Key</c>).</summary>
    public Device? FindByKey(string deviceKey)
    {
        var hash = DeviceKeys.Hash(deviceKey);
        return _idByKeyHash.TryGetValue(hash, out var id) && _byId.TryGetValue(id, out var device) && !device.IsRevoked && DeviceKeys.Matches(deviceKey, device.KeyHash) ? device : null;
    }

    /// <summary>The household a device belongs to, if it exists.</summary>
    public string? AccountOf(string deviceId) => _byId.TryGetValue(deviceId, out var device) ? device.AccountId : null;

    /// <summary>True when the device exists and is not revoked.</summary>
    public bool IsActive(string deviceId) => _byId.TryGetValue(deviceId, out var device) && !device.IsRevoked;

    /// <summary>Replaces everything with <paramref name="devices"/>.</summary>
    public void Load(IEnumerable<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        _byId.Clear();
        _idByKeyHash.Clear();
        foreach (var device in devices)
        {
            Put(Copy(device));
        }
    }

    /// <summary>Adds or updates devices (committed changes, in order) and tells the credential events.</summary>
    public void Apply(IEnumerable<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        foreach (var device in devices)
        {
            var copy = Copy(device);
            _byId.TryGetValue(device.DeviceId, out var old);
            if (old is not null)
            {
                _idByKeyHash.TryRemove(KeyValuePair.Create(old.KeyHash, old.DeviceId));
            }

            Put(copy);
            var kind = old is null ? DeviceCredentialChangeKind.Created
                : copy.IsRevoked && !old.IsRevoked ? DeviceCredentialChangeKind.Revoked
                : old.KeyHash != copy.KeyHash ? DeviceCredentialChangeKind.Rotated
                : (DeviceCredentialChangeKind?)null;
            if (kind is { } changed)
            {
                Tell(new DeviceCredentialChange(copy.DeviceId, copy.AccountId, changed, copy.KeyHash));
            }
        }
    }

    /// <summary>Tells the credential events that an ops user was removed.</summary>
    internal void OpsUserRemoved(string userName)
    {
        foreach (var handler in _events)
        {
            handler.OpsUserRemoved(userName);
        }
    }

    private void Tell(DeviceCredentialChange change)
    {
        foreach (var handler in _events)
        {
            handler.DeviceChanged(change);
        }
    }

    private void Put(Device device)
    {
        _byId[device.DeviceId] = device;
        if (!device.IsRevoked && device.KeyHash.Length > 0)
        {
            _idByKeyHash[device.KeyHash] = device.DeviceId;
        }
    }

    private static Device Copy(Device device) => new()
    {
        DeviceId = device.DeviceId,
        AccountId = device.AccountId,
        Name = device.Name,
        KeyHash = device.KeyHash,
        CreatedAt = device.CreatedAt,
        KeyRotatedAt = device.KeyRotatedAt,
        RevokedAt = device.RevokedAt,
    };
}
