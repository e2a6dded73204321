using System.Security.Claims;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Reads the household a <c>User_Auth</c> token acts for.</summary>
public sealed class AccountClaims(IOptions<AuthOptions> options)
{
    /// <summary>The account id, or null when the token names none.</summary>
    public string? AccountOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var value = user.FindFirst(options.Value.AccountClaim)?.Value;
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
