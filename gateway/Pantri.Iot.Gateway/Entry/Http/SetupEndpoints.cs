using System.Security.Claims;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The household setup API under <c>/v1/</c>, authorised by <c>User_Auth</c>: devices, instructions,
/// pairing, trigger points and orders. Bodies are read here only for their JSON shape; their values are validated in
/// the domain. Refusals are RFC 7807 problem details (a 400 names the field in <c>errors</c>). Every call counts
/// against its household's rate limit (<see cref="HttpApiOptions"/>); bodies are size-limited.</summary>
public static class SetupEndpoints
{
    private const int MaxOrders = 500;

    /// <summary>Maps the setup API.</summary>
    public static IEndpointRouteBuilder MapPantriSetup(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy).WithBodyLimit(app);
        v1.MapGet("/instructions", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.ListInstructionsAsync(account, ct)));
        v1.MapPost("/instructions", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<NewInstruction, InstructionView>(http, user, claims, (account, body) => setup.CreateInstructionAsync(account, body, ct)));
        v1.MapPut("/instructions/{instructionRef:long}/tracking", (long instructionRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<TrackingSettings, InstructionView>(http, user, claims, (account, body) => setup.ConfigureTrackingAsync(account, instructionRef, body, ct)));
        v1.MapPost("/instructions/{instructionRef:long}/devices/{deviceId}", (long instructionRef, string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.PairAsync(account, instructionRef, deviceId, ct)));
        v1.MapPost("/devices", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<NewDevice, CreatedDevice>(http, user, claims, (account, body) => setup.CreateDeviceAsync(account, body.DeviceId, ct)));
        v1.MapGet("/orders", (ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is { } account
                ? Results.Ok(store.FindOrders(account, MaxOrders).Select(ContractViews.Order))
                : Results.Forbid());
        v1.MapGet("/orders/{orderRef:long}", (long orderRef, ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is { } account && store.FindOrder(orderRef) is { } order && order.AccountId == account
                ? Results.Ok(ContractViews.OrderWithHistory(order))
                : Problems.Refused(StatusCodes.Status404NotFound, "no order with this ref in this account"));
        v1.MapPost("/orders/{orderRef:long}/state", (long orderRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<OrderStateChange, OrderStatus>(http, user, claims, (account, body) =>
            {
                // By exact name only: Enum.TryParse would take "1" or "Cancelled, Delivered".
                // A known state the household may not set is the ledger's 422 (naming the rule), not a 400.
                if (!OrderStates.TryParse(body.State, out var state))
                {
                    return Task.FromResult(new SetupResult<OrderStatus>(StatusCodes.Status400BadRequest, "State must be Cancelled or Delivered", default, nameof(OrderStateChange.State)));
                }

                return setup.MoveOrderAsync(account, orderRef, state, user.FindFirst("sub")?.Value ?? "app", ct);
            }));
        return app;
    }

    internal static async Task<IResult> WithBodyAsync<TBody, T>(HttpContext http, ClaimsPrincipal user, AccountClaims claims, Func<string, TBody, Task<SetupResult<T>>> action)
        where TBody : class
    {
        if (claims.AccountOf(user) is null)
        {
            return Results.Forbid();
        }

        var (body, problem) = await JsonBody.ReadAsync<TBody>(http).ConfigureAwait(false);
        return problem ?? await WithAccountAsync(user, claims, account => action(account, body!)).ConfigureAwait(false);
    }

    internal static async Task<IResult> WithAccountAsync<T>(ClaimsPrincipal user, AccountClaims claims, Func<string, Task<SetupResult<T>>> action)
    {
        if (claims.AccountOf(user) is not { } account)
        {
            return Results.Forbid();
        }

        var result = await action(account).ConfigureAwait(false);
        return result switch
        {
            { Error: null } => Results.Json(result.Value, statusCode: result.Status),
            { Status: StatusCodes.Status400BadRequest, Field: { } field } => Problems.Invalid(field, result.Error),
            _ => Problems.Refused(result.Status, result.Error),
        };
    }
}
