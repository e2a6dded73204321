using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Gateway.Backup;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The installation's operator calls on a running gateway. <c>POST /v1/admin/backup</c> answers a zip archive
/// of the data directory, copied consistently while the gateway runs (<see cref="OnlineBackup"/>), authorised by the
/// configured admin key (<see cref="AdminOptions"/>). <c>DELETE /v1/admin/ops-users/{userName}</c> (for the command
/// line) revokes an ops user at once, authorised by an installation-admin token (<c>Authorization: Bearer …</c>) signed
/// with the data directory's key for the audience <see cref="Audience"/>, which only whoever can read the data
/// directory can make. Neither accepts a household's <c>User_Auth</c>.</summary>
public static class AdminEndpoints
{
    /// <summary>The header that carries the admin key.</summary>
    public const string KeyHeader = "Pantri-Admin-Key";

    /// <summary>The backup endpoint's path.</summary>
    public const string BackupPath = "/v1/admin/backup";

    /// <summary>The audience of installation-admin tokens (no household token has it).</summary>
    public const string Audience = "pantri-installation-admin";

    /// <summary>Maps the admin endpoints.</summary>
    public static IEndpointRouteBuilder MapPantriAdmin(this IEndpointRouteBuilder app)
    {
        app.MapPost(BackupPath, BackupAsync).Produces<byte[]>(StatusCodes.Status200OK, "application/zip");
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

    private static async Task BackupAsync(HttpContext http, IOptions<AdminOptions> admin, OnlineBackup backup)
    {
        var refusal = Authorize(http, admin.Value);
        if (refusal is not null)
        {
            await refusal.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        OnlineBackup.Archive? archive;
        try
        {
            archive = await backup.CreateAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (OnlineBackupException ex)
        {
            await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: "backup failed: " + ex.Message).ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        if (archive is null)
        {
            await Results.Problem(statusCode: StatusCodes.Status409Conflict, detail: "another backup is running").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        await using (archive.ConfigureAwait(false))
        {
            http.Response.ContentType = "application/zip";
            http.Response.ContentLength = archive.Length;
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"{archive.FileName}\"";
            var file = archive.Open();
            await using (file.ConfigureAwait(false))
            {
                await file.CopyToAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Null when the request carries the admin key; otherwise the answer: 404 while no key is configured (the
    /// endpoint does not exist), 401 for a missing or wrong key (compared in constant time).</summary>
    private static IResult? Authorize(HttpContext http, AdminOptions admin)
    {
        if (string.IsNullOrEmpty(admin.Key))
        {
            return Results.NotFound();
        }

        var given = http.Request.Headers[KeyHeader].ToString();
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(admin.Key));
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        return given.Length > 0 && CryptographicOperations.FixedTimeEquals(expected, presented)
            ? null
            : Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: $"a valid {KeyHeader} header is required");
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
