namespace Pantri.Iot.Domain;

/// <summary>A device paired with a household. Its key is held only as a hash.</summary>
public sealed class Device
{
    /// <summary>The DeviceId (also its MQTT ClientId and Username).</summary>
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>The household that owns it.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>SHA-256 of the Device_Key, Base64.</summary>
    public string KeyHash { get; set; } = string.Empty;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
