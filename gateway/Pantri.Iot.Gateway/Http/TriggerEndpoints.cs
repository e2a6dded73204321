using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Commands;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Http;

/// <summary>The seed's curl: <c>POST /v1/trigger</c> with <c>Instruction_Ref</c> and <c>Device_Key</c> or
/// <c>User_Auth</c>. The body is the acknowledgement; the HTTP status equals its ID.</summary>
public static class TriggerEndpoints
{
    /// <summary>Maps the trigger endpoint.</summary>
    public static IEndpointRouteBuilder MapPantriTrigger(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/trigger", TriggerAsync);
        return app;
    }

    private static async Task<IResult> TriggerAsync(HttpContext http, CommandService commands, DeviceDirectory devices, AccountClaims claims, CancellationToken cancellationToken)
    {
        var headers = http.Request.Headers;
        var requestId = FirstNonEmpty(headers["RequestId"].ToString(), headers["Idempotency-Key"].ToString());
        if (requestId is { Length: > RequestIds.MaxLength })
        {
            requestId = null;
        }

        TriggerRequest? request = null;
        string? error = null;
        var rawRef = headers["Instruction_Ref"].ToString();
        if (rawRef.Length == 0)
        {
            request = new TriggerRequest(null) { RequestId = requestId };
        }
        else if (long.TryParse(rawRef, NumberStyles.None, CultureInfo.InvariantCulture, out var instructionRef) && instructionRef > 0)
        {
            request = new TriggerRequest(instructionRef) { RequestId = requestId };
        }
        else
        {
            error = "the Instruction_Ref header must be a positive integer";
        }

        CommandInput input;
        var deviceKey = headers["Device_Key"].ToString();
        if (deviceKey.Length > 0)
        {
            if (devices.FindByKey(deviceKey) is not { } device)
            {
                return NotAuthenticated("unknown Device_Key");
            }

            input = new CommandInput(DeviceTopicKind.Trigger, device.DeviceId, null, request, error, requestId, null);
        }
        else if (headers.ContainsKey("User_Auth") || headers.Authorization.Count > 0)
        {
            var auth = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false);
            if (!auth.Succeeded || claims.AccountOf(auth.Principal!) is not { } accountId)
            {
                return NotAuthenticated("User_Auth is not a valid token for a Pantri account");
            }

            if (request is { InstructionRef: null })
            {
                error = "the Instruction_Ref header is required with User_Auth";
            }

            input = new CommandInput(DeviceTopicKind.Trigger, null, accountId, request, error, requestId, null);
        }
        else
        {
            return NotAuthenticated("send Device_Key or User_Auth");
        }

        var ack = await commands.SubmitAsync(input, cancellationToken).ConfigureAwait(false);
        return Results.Json(ack, ContractJson.Default.Acknowledgement, statusCode: ack.Id);
    }

    // Not a command, so no CommandRef is spent on it; the shape stays that of an ack so clients parse one format.
    private static IResult NotAuthenticated(string reason) => Results.Json(
        new Acknowledgement { CommandRef = 0, Id = StatusCodes.Status401Unauthorized, Status = AckIds.DidNotDo(reason) },
        ContractJson.Default.Acknowledgement,
        statusCode: StatusCodes.Status401Unauthorized);

    private static string? FirstNonEmpty(params string[] values) => values.FirstOrDefault(v => v.Length > 0);
}
