namespace Pantri.Iot.Broker;

/// <summary>Who an authenticated MQTT connection is.</summary>
/// <param name="Name">DeviceId for a device, the username for ops.</param>
/// <param name="IsOps">True for the ops credential.</param>
public sealed record ClientIdentity(string Name, bool IsOps)
{
    /// <summary>Key of the identity in the MQTT session items.</summary>
    public const string SessionKey = "pantri.identity";
}
