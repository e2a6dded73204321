namespace Pantri.Iot.Contract;

/// <summary>The <c>Reason</c> of an offline <see cref="DevicePresence"/>: ops tell a device that said goodbye from one
/// that vanished or was replaced by a second connection with its id, or that has not come back since the gateway
/// restarted.</summary>
public static class DisconnectReasons
{
    /// <summary>The device sent DISCONNECT.</summary>
    public const string Clean = "clean";

    /// <summary>The connection was lost without a DISCONNECT (network, power, keep-alive timeout).</summary>
    public const string Dropped = "dropped";

    /// <summary>Another connection with the same client id took the session over.</summary>
    public const string Takeover = "takeover";

    /// <summary>The gateway (re)started and the device has not connected since (or ever): presence rebuilt from storage
    /// at start, without a <see cref="DevicePresence.LastSeen"/> (the gateway does not store when devices were last
    /// seen).</summary>
    public const string GatewayRestarted = "gateway-restarted";
}
