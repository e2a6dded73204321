namespace Pantri.Iot.Domain;

/// <summary>A device of a household. Its key is held only as a hash. A revoked device keeps its record (its orders
/// name it) but no key, and its id is never given out again.</summary>
public sealed class Device
{
    /// <summary>The DeviceId (also its MQTT ClientId and Username), assigned by the gateway.</summary>
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>The household that owns it.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>The name the household gave it.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>SHA-256 of the Device_Key, Base64; empty once revoked.</summary>
    public string KeyHash { get; set; } = string.Empty;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When its key was last replaced, if ever.</summary>
    public DateTimeOffset? KeyRotatedAt { get; set; }

    /// <summary>When it was revoked (deleted); null while it may connect.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>True once revoked.</summary>
    public bool IsRevoked => RevokedAt is not null;
}
