namespace Pantri.Iot.Gateway.Commands;

/// <summary>Who sent a command: an authenticated device (its account comes from the ledger) or an app user acting
/// for an account.</summary>
/// <param name="DeviceId">The device, or null for an app user.</param>
/// <param name="AccountId">The app user's account; null for a device.</param>
public sealed record CommandSource(string? DeviceId, string? AccountId)
{
    /// <summary>A device.</summary>
    public static CommandSource Device(string deviceId) => new(deviceId, null);

    /// <summary>An app user of an account.</summary>
    public static CommandSource App(string accountId) => new(null, accountId);

    /// <summary>The rate-limit and idempotency namespace of this sender.</summary>
    public string ActorKey => DeviceId ?? "app:" + AccountId;
}
