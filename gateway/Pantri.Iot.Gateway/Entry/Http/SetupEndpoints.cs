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
            WithAccountAsync(user, claims, account => setup.ListInstructionsAsync(account, ct))).Answers<IReadOnlyList<InstructionView>>();
        v1.MapPost("/instructions", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<NewInstruction, InstructionView>(http, user, claims, (account, body) => setup.CreateInstructionAsync(account, body, ct))).Takes<NewInstruction>().Answers<InstructionView>(StatusCodes.Status201Created);
        v1.MapPut("/instructions/{instructionRef:long}/tracking", (long instructionRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<TrackingSettings, InstructionView>(http, user, claims, (account, body) => setup.ConfigureTrackingAsync(account, instructionRef, body, ct))).Takes<TrackingSettings>().Answers<InstructionView>();
        v1.MapPost("/instructions/{instructionRef:long}/devices/{deviceId}", (long instructionRef, string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.PairAsync(account, instructionRef, deviceId, ct))).Answers<InstructionView>();
        v1.MapGet("/instructions/{instructionRef:long}", (long instructionRef, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.RunAsync(new GetInstruction(account, instructionRef), ct))).Answers<InstructionView>();
        v1.MapPatch("/instructions/{instructionRef:long}", (long instructionRef, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithBodyAsync<InstructionUpdate, InstructionView>(http, user, claims, (account, body) => setup.RunAsync(new UpdateInstruction(account, instructionRef, body), ct))).Takes<InstructionUpdate>().Answers<InstructionView>();
        v1.MapDelete("/instructions/{instructionRef:long}", (long instructionRef, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.RunAsync(new DeleteInstruction(account, instructionRef), ct))).Answers<InstructionView>();
        v1.MapDelete("/instructions/{instructionRef:long}/devices/{deviceId}", (long instructionRef, string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.RunAsync(new UnpairDevice(account, instructionRef, deviceId), ct))).Answers<InstructionView>();
        v1.MapGet("/orders", (string? state, long? instructionRef, string? deviceId, int? limit, ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is not { } account ? Results.Forbid() : ListOrders(store, account, state, instructionRef, deviceId, limit)).Answers<IReadOnlyList<OrderStatus>>();
        v1.MapGet("/orders/{orderRef:long}", (long orderRef, ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is { } account && store.FindOrder(orderRef) is { } order && order.AccountId == account
                ? Results.Ok(ContractViews.OrderWithHistory(order))
                : Problems.Refused(StatusCodes.Status404NotFound, "no order with this ref in this account")).Answers<OrderStatus>();
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
            })).Takes<OrderStateChange>().Answers<OrderStatus>();
        return app;
    }

    // Newest first, filtered by state (exact name), instruction and device, at most `limit` (1–500, default 500).
    private static IResult ListOrders(IGatewayStore store, string account, string? state, long? instructionRef, string? deviceId, int? limit)
    {
        OrderState parsed = default;
        if (state is not null && !OrderStates.TryParse(state, out parsed))
        {
            return Problems.Invalid("state", "state must be an order state name (Placed, Submitted, Confirmed, Shipped, Delivered, Rejected, Failed, Cancelled)");
        }

        if (limit is < 1 or > MaxOrders)
        {
            return Problems.Invalid("limit", $"limit must be from 1 to {MaxOrders}");
        }

        var orders = store.FindOrders(account, MaxOrders)
            .Where(o => state is null || o.State == parsed)
            .Where(o => instructionRef is null || o.InstructionRef == instructionRef)
            .Where(o => deviceId is null || string.Equals(o.DeviceId, deviceId, StringComparison.Ordinal))
            .Take(limit ?? MaxOrders)
            .Select(ContractViews.Order);
        return Results.Ok(orders);
    }

    /// <summary>Reads the JSON body, then runs <paramref name="action"/> for the token's household; with
    /// <paramref name="ownerOnly"/> a member is refused with 403.</summary>
    internal static async Task<IResult> WithBodyAsync<TBody, T>(HttpContext http, ClaimsPrincipal user, AccountClaims claims, Func<string, TBody, Task<SetupResult<T>>> action, bool ownerOnly = false)
        where TBody : class
    {
        if (Refusal(user, claims, ownerOnly) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await JsonBody.ReadAsync<TBody>(http).ConfigureAwait(false);
        return problem ?? await WithAccountAsync(user, claims, account => action(account, body!), ownerOnly).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="action"/> for the token's household and answers its result (JSON, or problem
    /// details); with <paramref name="ownerOnly"/> a member is refused with 403.</summary>
    internal static async Task<IResult> WithAccountAsync<T>(ClaimsPrincipal user, AccountClaims claims, Func<string, Task<SetupResult<T>>> action, bool ownerOnly = false)
    {
        if (Refusal(user, claims, ownerOnly) is { } refused)
        {
            return refused;
        }

        var account = claims.AccountOf(user)!;

        var result = await action(account).ConfigureAwait(false);
        return result switch
        {
            { Error: null } => Results.Json(result.Value, statusCode: result.Status),
            { Status: StatusCodes.Status400BadRequest, Field: { } field } => Problems.Invalid(field, result.Error),
            _ => Problems.Refused(result.Status, result.Error),
        };
    }

    private static IResult? Refusal(ClaimsPrincipal user, AccountClaims claims, bool ownerOnly) => claims.RoleOf(user) switch
    {
        null => Results.Forbid(),
        UserRole.Member when ownerOnly => Problems.Refused(StatusCodes.Status403Forbidden, "only an owner of the household may do this"),
        _ => null,
    };
}
