namespace Pantri.Iot.Domain;

/// <summary>A user of a household (owner or member), or an operator of the installation (<see cref="UserRole.Ops"/>,
/// no household). <c>User_Auth</c> tokens name the user (<c>sub</c>) and the household; ops users hold an MQTT
/// credential of their own instead.</summary>
public sealed class HouseholdUser
{
    /// <summary>Storage key: <c>{AccountId}/{UserId}</c> (<c>/{UserId}</c> for an operator).</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>The household, empty for an operator.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>The user's id in the household (the token's <c>sub</c>), or the operator's MQTT username.</summary>
    public string UserId { get; set; } = string.Empty;

    /// <summary>What the user may do.</summary>
    public UserRole Role { get; set; }

    /// <summary>SHA-256 of an operator's MQTT password (Base64); empty for household users.</summary>
    public string CredentialHash { get; set; } = string.Empty;

    /// <summary>When the user was added.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The storage key of a user.</summary>
    public static string KeyOf(string accountId, string userId) => accountId + "/" + userId;
}

/// <summary>What a user may do.</summary>
public enum UserRole
{
    /// <summary>Manages the household: its users, devices, pairing codes, name; may delete it.</summary>
    Owner,

    /// <summary>Uses the household: instructions, orders, triggers; reads its devices.</summary>
    Member,

    /// <summary>Operates the installation: reads every ops topic over MQTT; has no household.</summary>
    Ops,
}
