namespace Pantri.Iot.Broker.Abstractions;

/// <summary>Checks an ops user's own credential (per-user ops users, kept by the gateway). Called on CONNECTs whose
/// client id starts <c>ops-</c>, so it must answer from memory.</summary>
public interface IOpsAuthenticator
{
    /// <summary>True when <paramref name="userName"/> is an ops user and <paramref name="password"/> its password.</summary>
    bool IsValid(string userName, string password);
}

/// <summary>Closes live MQTT sessions of an identity whose credential stopped being valid (a rotated or revoked device
/// key, a removed ops user), so that the change takes effect at once rather than at the next reconnect.</summary>
public interface ISessionTerminator
{
    /// <summary>Disconnects the device <paramref name="deviceId"/>'s connection, if any; <paramref name="deleteSession"/>
    /// also drops its persistent session (a revoked device).</summary>
    Task DisconnectDeviceAsync(string deviceId, bool deleteSession);

    /// <summary>Disconnects every connection of the ops user <paramref name="userName"/> and drops their sessions.</summary>
    Task DisconnectOpsUserAsync(string userName);
}
