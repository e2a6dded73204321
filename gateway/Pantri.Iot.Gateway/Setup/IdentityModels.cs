using System.Text.Json.Serialization;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>A household as the setup API and the command line show it.</summary>
/// <param name="AccountId">Its id (the token's account claim).</param>
/// <param name="Name">Its display name.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Users">Its users.</param>
/// <param name="Devices">How many devices it has (not revoked).</param>
/// <param name="Instructions">How many instructions it has.</param>
public sealed record HouseholdView(string AccountId, string Name, DateTimeOffset CreatedAt, IReadOnlyList<UserView> Users, int Devices, int Instructions);

/// <summary>A user (or ops user) as shown.</summary>
/// <param name="UserId">The user id (token <c>sub</c>) or ops username.</param>
/// <param name="Role">Owner, Member or Ops.</param>
/// <param name="CreatedAt">When the user was added.</param>
public sealed record UserView(string UserId, string Role, DateTimeOffset CreatedAt);

/// <summary>A new ops user: its password is shown this once.</summary>
/// <param name="UserName">The MQTT username.</param>
/// <param name="Password">The MQTT password.</param>
public sealed record CreatedOpsUser(string UserName, string Password);

/// <summary>A device as the setup API shows it (never its key).</summary>
/// <param name="DeviceId">Its id, assigned by the gateway.</param>
/// <param name="Name">Its name.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="KeyRotatedAt">When its key was last replaced.</param>
/// <param name="InstructionRefs">Instructions it is paired with.</param>
public sealed record DeviceView(
    string DeviceId,
    string Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? KeyRotatedAt,
    [property: JsonPropertyName("Instruction_Refs")] IReadOnlyList<long> InstructionRefs);

/// <summary>A device with its key, shown once: when it is created and when its key is rotated.</summary>
/// <param name="DeviceId">Its id.</param>
/// <param name="Name">Its name.</param>
/// <param name="DeviceKey">Its key.</param>
public sealed record DeviceWithKey(string DeviceId, string Name, [property: JsonPropertyName(FieldNames.DeviceKey)] string DeviceKey);

/// <summary>Body of <c>POST /v1/devices</c> and <c>PUT /v1/devices/{id}</c>, <c>PUT /v1/household</c>.</summary>
public sealed record NameBody
{
    /// <summary>The display name.</summary>
    public string Name { get; init; } = string.Empty;
}

/// <summary>Body of <c>POST /v1/household/users</c>.</summary>
public sealed record NewUser
{
    /// <summary>The user id (their tokens' <c>sub</c>).</summary>
    public string UserId { get; init; } = string.Empty;

    /// <summary><c>Owner</c> or <c>Member</c> (default).</summary>
    public string Role { get; init; } = nameof(UserRole.Member);
}

/// <summary>Body of <c>PATCH /v1/instructions/{ref}</c>: the fields to change; absent ones stay.</summary>
public sealed record InstructionUpdate
{
    /// <summary>New product.</summary>
    public string? Product { get; init; }

    /// <summary>New retailer.</summary>
    public string? Retailer { get; init; }

    /// <summary>New quantity.</summary>
    public int? Quantity { get; init; }
}

/// <summary>Views of identity entities.</summary>
internal static class IdentityViews
{
    public static UserView User(HouseholdUser user) => new(user.UserId, user.Role.ToString(), user.CreatedAt);

    public static HouseholdView Household(ReplenishmentLedger ledger, Household household) => new(
        household.AccountId,
        household.Name,
        household.CreatedAt,
        ledger.UsersOf(household.AccountId).OrderBy(u => u.UserId, StringComparer.Ordinal).Select(User).ToList(),
        ledger.DevicesOf(household.AccountId).Count(),
        ledger.InstructionsOf(household.AccountId).Count());

    public static DeviceView Device(ReplenishmentLedger ledger, Device device) =>
        new(device.DeviceId, device.Name, device.CreatedAt, device.KeyRotatedAt, ledger.InstructionsPairedWith(device.DeviceId).ToList());
}
