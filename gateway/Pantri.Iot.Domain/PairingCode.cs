namespace Pantri.Iot.Domain;

/// <summary>A short-lived, single-use pairing code of a household: a new device that presents it gets a DeviceId, a key
/// and the code's instructions. Only the code's hash is kept.</summary>
public sealed class PairingCode
{
    /// <summary>SHA-256 of the canonical code (Base64): the key it is found by.</summary>
    public string CodeHash { get; set; } = string.Empty;

    /// <summary>The household the device will belong to.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>The name the device will get.</summary>
    public string DeviceName { get; set; } = string.Empty;

    /// <summary>Instructions the device will be paired with.</summary>
    public List<long> InstructionRefs { get; set; } = [];

    /// <summary>Who asked for it.</summary>
    public string CreatedBy { get; set; } = string.Empty;

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it stops working.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
