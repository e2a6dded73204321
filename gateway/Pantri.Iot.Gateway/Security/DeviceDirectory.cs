using System.Collections.Concurrent;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Security;

/// <summary>Device credentials in memory, for CONNECT and HTTP without a storage read. Written by the command
/// writer after each commit, read by any thread.</summary>
public sealed class DeviceDirectory : IDeviceAuthenticator
{
    private readonly ConcurrentDictionary<string, Device> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _idByKeyHash = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public bool IsValid(string deviceId, string deviceKey) =>
        _byId.TryGetValue(deviceId, out var device) && DeviceKeys.Matches(deviceKey, device.KeyHash);

    /// <summary>The device a key belongs to (HTTP <c>Device_Key</c>).</summary>
    public Device? FindByKey(string deviceKey)
    {
        var hash = DeviceKeys.Hash(deviceKey);
        return _idByKeyHash.TryGetValue(hash, out var id) && _byId.TryGetValue(id, out var device) && DeviceKeys.Matches(deviceKey, device.KeyHash) ? device : null;
    }

    /// <summary>The household a device belongs to, if it exists.</summary>
    public string? AccountOf(string deviceId) => _byId.TryGetValue(deviceId, out var device) ? device.AccountId : null;

    /// <summary>Replaces everything with <paramref name="devices"/>.</summary>
    public void Load(IEnumerable<Device> devices)
    {
        _byId.Clear();
        _idByKeyHash.Clear();
        Apply(devices);
    }

    /// <summary>Adds or updates devices.</summary>
    public void Apply(IEnumerable<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        foreach (var device in devices)
        {
            if (_byId.TryGetValue(device.DeviceId, out var old))
            {
                _idByKeyHash.TryRemove(old.KeyHash, out _);
            }

            _byId[device.DeviceId] = device;
            _idByKeyHash[device.KeyHash] = device.DeviceId;
        }
    }
}
