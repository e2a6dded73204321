using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The household setup API under <c>/v1/</c>, authorised by <c>User_Auth</c>: devices, instructions,
/// pairing, trigger points and orders.</summary>
public static class SetupEndpoints
{
    private const int MaxOrders = 500;

    /// <summary>Maps the setup API.</summary>
    public static IEndpointRouteBuilder MapPantriSetup(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization();
        v1.MapGet("/instructions", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.ListInstructionsAsync(account, ct)));
        v1.MapPost("/instructions", (NewInstruction body, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            Validate(body) ?? WithAccountAsync(user, claims, account => setup.CreateInstructionAsync(account, body, ct)));
        v1.MapPut("/instructions/{instructionRef:long}/tracking", (long instructionRef, TrackingSettings body, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            Validate(body) ?? WithAccountAsync(user, claims, account => setup.ConfigureTrackingAsync(account, instructionRef, body, ct)));
        v1.MapPost("/instructions/{instructionRef:long}/devices/{deviceId}", (long instructionRef, string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            WithAccountAsync(user, claims, account => setup.PairAsync(account, instructionRef, deviceId, ct)));
        v1.MapPost("/devices", (NewDevice body, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            Validate(body) ?? WithAccountAsync(user, claims, account => setup.CreateDeviceAsync(account, body.DeviceId, ct)));
        v1.MapGet("/orders", (ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is { } account
                ? Results.Ok(store.FindOrders(account, MaxOrders).Select(ContractViews.Order))
                : Results.Forbid());
        v1.MapGet("/orders/{orderRef:long}", (long orderRef, ClaimsPrincipal user, AccountClaims claims, IGatewayStore store) =>
            claims.AccountOf(user) is { } account && store.FindOrder(orderRef) is { } order && order.AccountId == account
                ? Results.Ok(ContractViews.Order(order))
                : Results.NotFound());
        v1.MapPost("/orders/{orderRef:long}/state", (long orderRef, OrderStateChange body, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
        {
            if (!Enum.TryParse<OrderState>(body.State, ignoreCase: true, out var state) || state == OrderState.Placed)
            {
                return Task.FromResult(Results.BadRequest(new { Error = "State must be Submitted, Confirmed, Delivered, Failed or Cancelled" }));
            }

            var by = user.FindFirst("sub")?.Value ?? "app";
            return WithAccountAsync(user, claims, account => setup.MoveOrderAsync(account, orderRef, state, by, ct));
        });
        return app;
    }

    private static async Task<IResult> WithAccountAsync<T>(ClaimsPrincipal user, AccountClaims claims, Func<string, Task<SetupResult<T>>> action)
    {
        if (claims.AccountOf(user) is not { } account)
        {
            return Results.Forbid();
        }

        var result = await action(account).ConfigureAwait(false);
        return result.Error is null ? Results.Json(result.Value, statusCode: result.Status) : Results.Json(new { result.Error }, statusCode: result.Status);
    }

    private static Task<IResult>? Validate(object body)
    {
        var errors = new List<ValidationResult>();
        return Validator.TryValidateObject(body, new ValidationContext(body), errors, validateAllProperties: true)
            ? null
            : Task.FromResult(Results.BadRequest(new { Error = string.Join("; ", errors.Select(e => e.ErrorMessage)) }));
    }
}
