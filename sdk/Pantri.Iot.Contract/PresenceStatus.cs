namespace Pantri.Iot.Contract;

/// <summary>The <c>Status</c> of a <see cref="DevicePresence"/>, and what a device's Will usually says on its
/// <c>status</c> topic.</summary>
public static class PresenceStatus
{
    /// <summary>The device is connected.</summary>
    public const string Online = "online";

    /// <summary>The device is not connected.</summary>
    public const string Offline = "offline";
}
