namespace Pantri.Iot.Gateway.Security;

/// <summary>The one seam for whatever must follow device credentials: told after each commit, in commit order, when a
/// device was created, got a new key or was revoked (and when an ops user was removed). Register implementations as
/// singletons; they run on the writer thread, so they must return at once (queue the work, never block). The embedded
/// broker's <see cref="CredentialSessionTerminator"/> closes live sessions; an external broker's credential sync can
/// hook here too.</summary>
public interface IDeviceCredentialEvents
{
    /// <summary>A device's credential changed (committed).</summary>
    void DeviceChanged(DeviceCredentialChange change);

    /// <summary>An ops user was removed (committed); its MQTT connections must go.</summary>
    void OpsUserRemoved(string userName);
}

/// <summary>What happened to a device's credential.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="AccountId">Its household.</param>
/// <param name="Kind">Created, rotated or revoked.</param>
/// <param name="KeyHash">The SHA-256 of the key now valid (Base64), empty once revoked.</param>
public sealed record DeviceCredentialChange(string DeviceId, string AccountId, DeviceCredentialChangeKind Kind, string KeyHash);

/// <summary>Kinds of <see cref="DeviceCredentialChange"/>.</summary>
public enum DeviceCredentialChangeKind
{
    /// <summary>A new device.</summary>
    Created,

    /// <summary>Its key was replaced: the old one no longer works.</summary>
    Rotated,

    /// <summary>It was revoked: no key works.</summary>
    Revoked,
}
