using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Backup;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Operator endpoints, authorised by the configured admin key (<see cref="AdminOptions"/>):
/// <c>POST /v1/admin/backup</c> answers a zip archive of the data directory, copied consistently while the gateway
/// runs (<see cref="OnlineBackup"/>).</summary>
public static class AdminEndpoints
{
    /// <summary>The header that carries the admin key.</summary>
    public const string KeyHeader = "Pantri-Admin-Key";

    /// <summary>The backup endpoint's path.</summary>
    public const string BackupPath = "/v1/admin/backup";

    /// <summary>Maps the admin endpoints.</summary>
    public static IEndpointRouteBuilder MapPantriAdmin(this IEndpointRouteBuilder app)
    {
        app.MapPost(BackupPath, BackupAsync);
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
}
