using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Entry.Http;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary><c>POST /v1/broker/authenticate</c> and <c>POST /v1/broker/authorize</c>: the HTTP authenticator and
/// authoriser an external broker (EMQX 5) calls, with EMQX's JSON bodies (<c>clientid</c>, <c>username</c>,
/// <c>password</c>, <c>peerhost</c>; <c>action</c>, <c>topic</c>, <c>qos</c>, <c>retain</c>) and answers
/// (<c>200 {"result":"allow"|"deny"}</c>). Mapped only in External mode with <c>Pantri:Broker:HttpAuthSecret</c> set;
/// a caller without that secret gets 401.</summary>
/// <remarks>The answer is never EMQX's <c>ignore</c>: the gateway is the only authority for these identities, and
/// <c>ignore</c> would hand an unknown login or topic to whatever comes next in the broker's chain. A body that cannot be
/// read is a <c>deny</c> (still 200), because EMQX treats any other status as <c>ignore</c>.</remarks>
public static class BrokerHttpAuthEndpoints
{
    /// <summary>The authentication endpoint's path.</summary>
    public const string AuthenticatePath = "/v1/broker/authenticate";

    /// <summary>The authorisation endpoint's path.</summary>
    public const string AuthorizePath = "/v1/broker/authorize";

    /// <summary>Maps both endpoints when the gateway runs in External mode with a shared secret; otherwise nothing.</summary>
    public static IEndpointRouteBuilder MapPantriBrokerHttpAuth(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.ServiceProvider.GetRequiredService<IOptions<ExternalBrokerOptions>>().Value;
        if (options.Mode != BrokerMode.External || string.IsNullOrEmpty(options.HttpAuthSecret))
        {
            return app;
        }

        app.MapPost(AuthenticatePath, (HttpContext http, BrokerHttpAuth auth, CancellationToken ct) => AnswerAsync(http, auth, Authenticate, ct))
            .AllowAnonymous().WithBodyLimit(app).ExcludeFromDescription();
        app.MapPost(AuthorizePath, (HttpContext http, BrokerHttpAuth auth, CancellationToken ct) => AnswerAsync(http, auth, Authorize, ct))
            .AllowAnonymous().WithBodyLimit(app).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> AnswerAsync(HttpContext http, BrokerHttpAuth auth, Func<BrokerHttpAuth, JsonElement, bool> decide, CancellationToken ct)
    {
        if (!auth.IsBroker(http.Request.Headers.Authorization, http.Connection.RemoteIpAddress))
        {
            return Results.Unauthorized();
        }

        bool allowed;
        try
        {
            using var body = await JsonDocument.ParseAsync(http.Request.Body, default, ct).ConfigureAwait(false);
            allowed = body.RootElement.ValueKind == JsonValueKind.Object && decide(auth, body.RootElement);
        }
        catch (JsonException)
        {
            allowed = false;
        }

        // is_superuser is EMQX's authentication field (never: every identity has its rules); its authorisation ignores it.
        return Results.Json(new Answer(allowed ? "allow" : "deny", IsSuperuser: false));
    }

    private static bool Authenticate(BrokerHttpAuth auth, JsonElement body) =>
        Text(body, "clientid") is { } clientId
        && Text(body, "username") is { } userName
        // The device's address is what the throttle counts; without it the login is refused rather than untracked.
        && IPAddress.TryParse(Text(body, "peerhost"), out var peer)
        && auth.Authenticate(clientId, userName, Text(body, "password"), peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer);

    private static bool Authorize(BrokerHttpAuth auth, JsonElement body)
    {
        if (Text(body, "clientid") is not { } clientId || Text(body, "username") is not { } userName || Text(body, "topic") is not { } topic)
        {
            return false;
        }

        switch (Text(body, "action"))
        {
            case "subscribe":
                return auth.Authorize(clientId, userName, subscribe: true, topic, retain: false);
            case "publish":
                // A publish whose retain flag is not told is refused: the template must send ${retain}.
                return Text(body, "retain") is { } retain && (retain is "true" or "false" or "1" or "0")
                    && auth.Authorize(clientId, userName, subscribe: false, topic, retain: retain is "true" or "1");
            default:
                return false;
        }
    }

    // EMQX fills its template as text ("${qos}" → "1") or, unquoted, as numbers and booleans: both are read as text.
    private static string? Text(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            }
            : null;

    private sealed record Answer(
        [property: System.Text.Json.Serialization.JsonPropertyName("result")] string Result,
        [property: System.Text.Json.Serialization.JsonPropertyName("is_superuser")] bool IsSuperuser);
}
