using System.Net;
using System.Net.WebSockets;
using Pantri.Iot.Broker;

namespace Pantri.Iot.Gateway.Entry.WebSockets;

/// <summary>MQTT over WebSockets on the gateway's HTTP server: <c>GET /mqtt</c> upgraded with the subprotocol
/// <c>mqtt</c>. The WebSocket's bytes go to the embedded broker through the same guarded transport as a TCP connection
/// (<see cref="EmbeddedMqttServer.ServeWebSocketAsync"/>): one broker, two transports, the same authentication, topic
/// rules, limits and direct ack delivery.</summary>
public static class MqttWebSocketEndpoint
{
    /// <summary>The path MQTT clients connect to (<c>ws://host:port/mqtt</c>).</summary>
    public const string Path = "/mqtt";

    /// <summary>The WebSocket subprotocol MQTT uses (MQTT 3.1.1 and 5.0, section 6).</summary>
    public const string SubProtocol = "mqtt";

    /// <summary>Maps <see cref="Path"/>; the app must call <c>UseWebSockets</c> before.</summary>
    public static IEndpointRouteBuilder MapPantriMqttWebSocket(this IEndpointRouteBuilder app)
    {
        app.Map(Path, ServeAsync);
        return app;
    }

    private static async Task ServeAsync(HttpContext http, EmbeddedMqttServer broker)
    {
        if (!http.WebSockets.IsWebSocketRequest || !http.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol, StringComparer.OrdinalIgnoreCase))
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var connection = http.Connection;
        var remote = new IPEndPoint(connection.RemoteIpAddress ?? IPAddress.None, connection.RemotePort);
        var local = new IPEndPoint(connection.LocalIpAddress ?? IPAddress.None, connection.LocalPort);
        var socket = await http.WebSockets.AcceptWebSocketAsync(SubProtocol).ConfigureAwait(false);
        var stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            if (!await broker.ServeWebSocketAsync(stream, remote, local, http.Abort).ConfigureAwait(false))
            {
                http.Abort();
            }
        }
    }
}
