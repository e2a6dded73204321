namespace Pantri.Iot.Broker;

/// <summary>Who an authenticated MQTT connection is.</summary>
/// <param name="Name">DeviceId for a device, the username for ops.</param>
/// <param name="IsOps">True for the ops credential.</param>
/// <param name="IsProvisioning">True for the provisioning identity (its client id is <c>Name</c>).</param>
public sealed record ClientIdentity(string Name, bool IsOps, bool IsProvisioning = false)
{
    /// <summary>Key of the identity in the MQTT session items.</summary>
    public const string SessionKey = "pantri.identity";
}
