using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The installation's own calls on a running gateway, for the command line: <c>DELETE
/// /v1/admin/ops-users/{userName}</c> revokes an ops user at once (its connections are closed). Authorised by an
/// installation-admin token (<c>Authorization: Bearer …</c>) signed with the data directory's key for the audience
/// <see cref="Audience"/>, which only whoever can read the data directory can make — never by a household's
/// <c>User_Auth</c>.</summary>
public static class AdminEndpoints
{
    /// <summary>The audience of installation-admin tokens (no household token has it).</summary>
    public const string Audience = "pantri-installation-admin";

    /// <summary>Maps the admin endpoints.</summary>
    public static IEndpointRouteBuilder MapPantriAdmin(this IEndpointRouteBuilder app)
    {
        app.MapDelete("/v1/admin/ops-users/{userName}", async (string userName, HttpContext http, UserTokens tokens, IOptions<AuthOptions> auth, SetupService setup, CancellationToken ct) =>
        {
            if (!await IsAdminAsync(http, tokens, auth.Value).ConfigureAwait(false))
            {
                return Problems.Refused(StatusCodes.Status401Unauthorized, "an installation-admin token is required");
            }

            var result = await setup.RunAsync(new RemoveOpsUser(userName) { By = "cli" }, ct).ConfigureAwait(false);
            return result.Error is null ? Results.Ok(result.Value) : Problems.Refused(result.Status, result.Error);
        }).AllowAnonymous().Answers<UserView>();
        return app;
    }

    /// <summary>A short-lived installation-admin token, signed with <paramref name="signingKey"/>.</summary>
    public static string IssueToken(SecurityKey signingKey, string issuer, DateTimeOffset now) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "cli")]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + TimeSpan.FromMinutes(5)).UtcDateTime,
            SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.HmacSha256),
        });

    private static async Task<bool> IsAdminAsync(HttpContext http, UserTokens tokens, AuthOptions auth)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(header[7..].Trim(), new TokenValidationParameters
        {
            ValidIssuer = auth.Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = tokens.SigningKey,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromMinutes(1),
        }).ConfigureAwait(false);
        return result.IsValid;
    }
}
