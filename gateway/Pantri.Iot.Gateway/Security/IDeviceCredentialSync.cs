namespace Pantri.Iot.Gateway.Security;

/// <summary>Keeps a broker that authenticates devices itself (an external broker) in step with the gateway's
/// devices. Called after the change is committed, with the plain key, which the gateway never stores: a broker that
/// keeps its own hash can only learn the key at these moments.</summary>
public interface IDeviceCredentialSync
{
    /// <summary>A device was created with <paramref name="deviceKey"/>: from now on it may connect and use its topics.</summary>
    Task DeviceCreatedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken);

    /// <summary>A device's key was replaced: the old one must stop working.</summary>
    Task KeyChangedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken);

    /// <summary>A device was removed: it must no longer connect, and its connection, if any, is closed.</summary>
    Task DeviceRemovedAsync(string deviceId, CancellationToken cancellationToken);
}

/// <summary>The embedded broker reads keys from <see cref="DeviceDirectory"/>: nothing to sync.</summary>
public sealed class NoCredentialSync : IDeviceCredentialSync
{
    /// <inheritdoc/>
    public Task DeviceCreatedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task KeyChangedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task DeviceRemovedAsync(string deviceId, CancellationToken cancellationToken) => Task.CompletedTask;
}
