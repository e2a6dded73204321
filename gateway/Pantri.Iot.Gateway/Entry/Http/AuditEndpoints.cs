using System.Security.Claims;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary><c>GET /v1/audit</c>: the household's setup changes, newest first — who (the user, <c>cli</c>, a
/// provisioning client), what (the call and the entity), when.</summary>
public static class AuditEndpoints
{
    private const int MaxEntries = 500;

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapPantriAudit(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy)
            .MapGet("/audit", (int? limit, ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            {
                if (claims.AccountOf(user) is not { } account)
                {
                    return Results.Forbid();
                }

                return limit is < 1 or > MaxEntries
                    ? Problems.Invalid("limit", $"limit must be from 1 to {MaxEntries}")
                    : Results.Ok(store.FindAudit(account, limit ?? 100).Select(a => new AuditView(a.At, a.By, a.Action, a.Subject, a.Change)));
            })
            .Answers<IReadOnlyList<AuditView>>();
        return app;
    }
}

/// <summary>An audit line as the API shows it.</summary>
/// <param name="At">When.</param>
/// <param name="By">Who.</param>
/// <param name="Action">The setup call.</param>
/// <param name="Subject">What it changed.</param>
/// <param name="Change"><c>changed</c> or <c>removed</c>.</param>
public sealed record AuditView(DateTimeOffset At, string By, string Action, string Subject, string Change);
