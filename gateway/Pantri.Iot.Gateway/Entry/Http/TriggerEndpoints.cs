using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Commands;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Telemetry;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The seed's curl: <c>POST /v1/trigger</c> with <c>Instruction_Ref</c> and <c>Device_Key</c> or
/// <c>User_Auth</c>. The headers become the same <see cref="TriggerRequest"/> an MQTT trigger does; the body is the
/// acknowledgement and the HTTP status equals its ID.</summary>
public static class TriggerEndpoints
{
    /// <summary>Maps the trigger endpoint.</summary>
    public static IEndpointRouteBuilder MapPantriTrigger(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/trigger", TriggerAsync).WithBodyLimit(app)
            .WithDescription("Headers: Instruction_Ref, and Device_Key or User_Auth; optional RequestId (or Idempotency-Key). The body is the acknowledgement; the status code equals its ID.")
            .Produces<Acknowledgement>(StatusCodes.Status201Created)
            .Produces<Acknowledgement>(StatusCodes.Status200OK)
            .Produces<Acknowledgement>(StatusCodes.Status400BadRequest)
            .Produces<Acknowledgement>(StatusCodes.Status401Unauthorized)
            .Produces<Acknowledgement>(StatusCodes.Status404NotFound)
            .Produces<Acknowledgement>(StatusCodes.Status409Conflict)
            .Produces<Acknowledgement>(StatusCodes.Status429TooManyRequests)
            .Produces<Acknowledgement>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<IResult> TriggerAsync(HttpContext http, CommandWriter writer, DeviceDirectory devices, AccountClaims claims, GatewayMetrics metrics, CancellationToken cancellationToken)
    {
        var started = metrics.Start();
        var headers = http.Request.Headers;
        CommandSource source;
        var deviceKey = headers[HttpHeaders.DeviceKey].ToString();
        if (deviceKey.Length > 0)
        {
            if (devices.FindByKey(deviceKey) is not { } device)
            {
                return NotAuthenticated("unknown Device_Key");
            }

            source = CommandSource.Device(device.DeviceId);
        }
        else if (headers.ContainsKey(HttpHeaders.UserAuth) || headers.Authorization.Count > 0)
        {
            var auth = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false);
            if (!auth.Succeeded || claims.AccountOf(auth.Principal!) is not { } accountId)
            {
                return NotAuthenticated("User_Auth is not a valid token for a Pantri account");
            }

            source = CommandSource.App(accountId);
        }
        else
        {
            return NotAuthenticated("send Device_Key or User_Auth");
        }

        var ack = await writer.SubmitAsync(ToCommand(headers, source), cancellationToken).ConfigureAwait(false);
        metrics.CommandAnswered(DeviceTopicKind.Trigger, ack.Ack.Id, "http", started);
        return new AckResult(ack);
    }

    private static DeviceCommand ToCommand(IHeaderDictionary headers, CommandSource source)
    {
        var rawRequestId = FirstNonEmpty(headers[HttpHeaders.RequestId].ToString(), headers[HttpHeaders.IdempotencyKey].ToString());
        if (!RequestIds.TryNormalize(rawRequestId, out var requestId, out var requestIdError))
        {
            return DeviceCommand.Malformed(DeviceTopicKind.Trigger, new MalformedRequest(requestIdError, null, null), source);
        }

        var rawRef = headers[HttpHeaders.InstructionRef].ToString();
        long? instructionRef = null;
        if (rawRef.Length > 0)
        {
            if (!long.TryParse(rawRef, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed <= 0)
            {
                return DeviceCommand.Malformed(DeviceTopicKind.Trigger, new MalformedRequest("the Instruction_Ref header must be a positive integer", requestId, null), source);
            }

            instructionRef = parsed;
        }
        else if (source.DeviceId is null)
        {
            return DeviceCommand.Malformed(DeviceTopicKind.Trigger, new MalformedRequest("the Instruction_Ref header is required with User_Auth", requestId, null), source);
        }

        return DeviceCommand.For(new TriggerRequest(instructionRef) { RequestId = requestId }, source);
    }

    // Not a command, so no CommandRef is spent on it; the shape stays that of an ack so clients parse one format.
    private static AckResult NotAuthenticated(string reason) => new(CommandAck.Of(new Acknowledgement
    {
        CommandRef = 0,
        Id = AckIds.NotAuthenticated,
        Status = AckIds.DidNotDo(reason),
    }));

    private static string? FirstNonEmpty(params string[] values) => values.FirstOrDefault(v => v.Length > 0);

    /// <summary>Writes the ack's stored bytes with the status code equal to its ID.</summary>
    private sealed class AckResult(CommandAck ack) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = ack.Ack.Id;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            httpContext.Response.ContentLength = ack.Json.Length;
            await httpContext.Response.Body.WriteAsync(ack.Json, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
