using System.Security.Claims;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Entry.Http;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Pairing;

/// <summary><c>POST /v1/pairing-codes</c>: an owner asks for a code a new device presents on its provisioning topic.</summary>
public static class PairingEndpoints
{
    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapPantriPairing(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy).WithBodyLimit(app);
        v1.MapPost("/pairing-codes", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, IOptions<PairingOptions> options, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<NewPairingCode, CreatedPairingCode>(http, user, claims, (account, body) =>
                setup.RunAsync(new CreatePairingCode(account, body, AccountClaims.UserOf(user), options.Value.CodeLifetime), ct), ownerOnly: true))
            .Takes<NewPairingCode>().Answers<CreatedPairingCode>(StatusCodes.Status201Created);
        return app;
    }
}
