using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Gateway.Security;

/// <summary>Closes the live MQTT session of a device whose key was rotated or revoked, and of a removed ops user, as
/// soon as the change is committed: the old credential stops working for a connection already open too, not only for
/// the next CONNECT (which the directories already refuse). Runs off the writer thread.</summary>
public sealed partial class CredentialSessionTerminator(ISessionTerminator broker, ILogger<CredentialSessionTerminator> logger) : IDeviceCredentialEvents
{
    /// <inheritdoc/>
    public void DeviceChanged(DeviceCredentialChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Kind != DeviceCredentialChangeKind.Created)
        {
            Run(() => broker.DisconnectDeviceAsync(change.DeviceId, deleteSession: change.Kind == DeviceCredentialChangeKind.Revoked), change.DeviceId);
        }
    }

    /// <inheritdoc/>
    public void OpsUserRemoved(string userName) => Run(() => broker.DisconnectOpsUserAsync(userName), userName);

    private void Run(Func<Task> disconnect, string who) => _ = Task.Run(async () =>
    {
        try
        {
            await disconnect().ConfigureAwait(false);
            LogDisconnected(logger, who);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFailed(logger, ex, who);
        }
    });

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Credential of {Identity} changed: its live MQTT sessions were closed")]
    private static partial void LogDisconnected(ILogger logger, string identity);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Closing the MQTT sessions of {Identity} after its credential changed failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string identity);
}
