using System.Security.Claims;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The household's safeguards under <c>/v1/</c>, authorised by <c>User_Auth</c> like the setup API (same rate
/// limit, body limit and problem details): approval, pause, monthly spend limit, price guards, and the answers to
/// orders awaiting approval. Changing a safeguard and approving an order (spending money) are the owner's; any member
/// may read them and decline an order.</summary>
public static class SafeguardEndpoints
{
    /// <summary>Maps the safeguard calls.</summary>
    public static IEndpointRouteBuilder MapPantriSafeguards(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy).WithBodyLimit(app);
        v1.MapGet("/safeguards", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new ReadSafeguards(account), ct))).Answers<SafeguardsView>();
        v1.MapPut("/safeguards", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<HouseholdSafeguardsBody, SafeguardsView>(http, user, claims, (account, body) => setup.RunAsync(new ConfigureSafeguards(account, body), ct), ownerOnly: true)).Takes<HouseholdSafeguardsBody>().Answers<SafeguardsView>();
        v1.MapPut("/instructions/{instructionRef:long}/safeguards", (long instructionRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<InstructionSafeguardsBody, InstructionSafeguardsView>(http, user, claims, (account, body) => setup.RunAsync(new ConfigureInstructionSafeguards(account, instructionRef, body), ct), ownerOnly: true)).Takes<InstructionSafeguardsBody>().Answers<InstructionSafeguardsView>();
        v1.MapPut("/instructions/{instructionRef:long}/retailers", (long instructionRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<FallbacksBody, RetailersView>(http, user, claims, (account, body) => setup.RunAsync(new ConfigureFallbacks(account, instructionRef, body), ct), ownerOnly: true)).Takes<FallbacksBody>().Answers<RetailersView>();
        v1.MapPut("/events/webhook", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<WebhookBody, WebhookView>(http, user, claims, (account, body) =>
                setup.RunAsync(new ConfigureWebhook(account, body.Url ?? string.Empty, NewSecret()), ct), ownerOnly: true)).Takes<WebhookBody>().Answers<WebhookView>();
        v1.MapDelete("/events/webhook", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new ConfigureWebhook(account, null, string.Empty), ct), ownerOnly: true)).Answers<WebhookView>();
        v1.MapPost("/orders/{orderRef:long}/approve", (long orderRef, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync<OrderStatus>(user, claims, account => setup.RunAsync(new AnswerApproval(account, orderRef, Approved: true, user.FindFirst("sub")?.Value ?? "app"), ct), ownerOnly: true)).Answers<OrderStatus>();
        v1.MapPost("/orders/{orderRef:long}/decline", (long orderRef, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync<OrderStatus>(user, claims, account => setup.RunAsync(new AnswerApproval(account, orderRef, Approved: false, user.FindFirst("sub")?.Value ?? "app"), ct))).Answers<OrderStatus>();
        return app;
    }

    // 32 random bytes, URL-safe base64: the household's webhook signing secret.
    private static string NewSecret() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
