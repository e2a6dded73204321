using System.Security.Claims;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Reads who a validated <c>User_Auth</c> token is: the household it acts for (the configured account claim),
/// the user (<c>sub</c>) and their role. Embedded tokens take the role from the household's users, looked up on every
/// request (so removing a user or changing a role takes effect at once); tokens of an external issuer take it from the
/// configured role claim (<c>owner</c>, anything else is a member).</summary>
public sealed class AccountClaims(IOptions<AuthOptions> options, IdentityDirectory identities)
{
    /// <summary>The account id, or null when the token names none.</summary>
    public string? AccountOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var value = user.FindFirst(options.Value.AccountClaim)?.Value;
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>The user id (<c>sub</c>), or <c>app</c> when the token names none.</summary>
    public static string UserOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirst("sub")?.Value is { Length: > 0 } sub ? sub : "app";
    }

    /// <summary>True when the token's household exists and, for an embedded token, its user belongs to it.</summary>
    public bool IsKnown(ClaimsPrincipal user) => RoleOf(user) is not null;

    /// <summary>The user's role in the token's household, or null when the token does not name a user of an existing one.</summary>
    public UserRole? RoleOf(ClaimsPrincipal user)
    {
        if (AccountOf(user) is not { } account || !identities.HouseholdExists(account))
        {
            return null;
        }

        var auth = options.Value;
        if (string.IsNullOrEmpty(auth.Authority))
        {
            return user.FindFirst("sub")?.Value is { Length: > 0 } sub ? identities.RoleOf(account, sub) : null;
        }

        return string.Equals(user.FindFirst(auth.RoleClaim)?.Value, "owner", StringComparison.OrdinalIgnoreCase) ? UserRole.Owner : UserRole.Member;
    }
}
