using System.Security.Claims;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The household's own account, its users and its devices under <c>/v1/</c>, authorised by <c>User_Auth</c>.
/// Changes to the household, its users and its devices need the owner role; members read. Creating households is the
/// installation's business (the command line), not a household's. A device of another household answers 404 like an
/// unknown one.</summary>
public static class IdentityEndpoints
{
    /// <summary>Maps the household, user and device endpoints.</summary>
    public static IEndpointRouteBuilder MapPantriIdentity(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy).WithBodyLimit(app);
        v1.MapGet("/household", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new GetHousehold(account), ct))).Answers<HouseholdView>();
        v1.MapPut("/household", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<NameBody, HouseholdView>(http, user, claims, (account, body) => setup.RunAsync(new RenameHousehold(account, body.Name), ct), ownerOnly: true)).Takes<NameBody>().Answers<HouseholdView>();
        v1.MapDelete("/household", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new DeleteHousehold(account), ct), ownerOnly: true)).Answers<HouseholdView>();
        v1.MapPost("/household/users", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<NewUser, UserView>(http, user, claims, (account, body) =>
                Enum.TryParse<UserRole>(body.Role, ignoreCase: true, out var role) && body.Role.All(char.IsLetter) && role != UserRole.Ops
                    ? setup.RunAsync(new AddUser(account, body.UserId, role), ct)
                    : Task.FromResult(new SetupResult<UserView>(StatusCodes.Status400BadRequest, "Role must be Owner or Member", null, nameof(NewUser.Role))), ownerOnly: true)).Takes<NewUser>().Answers<UserView>(StatusCodes.Status201Created);
        v1.MapDelete("/household/users/{userId}", (string userId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new RemoveUser(account, userId), ct), ownerOnly: true)).Answers<UserView>();

        v1.MapGet("/devices", (ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new ListDevices(account), ct))).Answers<IReadOnlyList<DeviceView>>();
        v1.MapPost("/devices", (HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<NameBody, DeviceWithKey>(http, user, claims, (account, body) => setup.CreateDeviceAsync(account, body.Name, ct), ownerOnly: true)).Takes<NameBody>().Answers<DeviceWithKey>(StatusCodes.Status201Created);
        v1.MapGet("/devices/{deviceId}", (string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RunAsync(new GetDevice(account, deviceId), ct))).Answers<DeviceView>();
        v1.MapPut("/devices/{deviceId}", (string deviceId, HttpContext http, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithBodyAsync<NameBody, DeviceView>(http, user, claims, (account, body) => setup.RunAsync(new RenameDevice(account, deviceId, body.Name), ct), ownerOnly: true)).Takes<NameBody>().Answers<DeviceView>();
        v1.MapPost("/devices/{deviceId}/rotate-key", (string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RotateDeviceKeyAsync(account, deviceId, ct), ownerOnly: true)).Answers<DeviceWithKey>();
        v1.MapDelete("/devices/{deviceId}", (string deviceId, ClaimsPrincipal user, AccountClaims claims, SetupService setup, CancellationToken ct) =>
            SetupEndpoints.WithAccountAsync(user, claims, account => setup.RevokeDeviceAsync(account, deviceId, ct), ownerOnly: true)).Answers<DeviceView>();
        return app;
    }
}
