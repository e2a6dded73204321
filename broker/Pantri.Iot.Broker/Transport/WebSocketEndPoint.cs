using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Broker.Transport;

/// <summary>The remote end of an MQTT connection carried by a WebSocket: the HTTP peer's address and port, kept
/// apart from TCP end points (a client may use the same port number towards both listeners).</summary>
/// <param name="peer">The HTTP connection's remote address and port.</param>
public sealed class WebSocketEndPoint(IPEndPoint peer) : EndPoint
{
    /// <summary>The HTTP connection's remote address and port.</summary>
    public IPEndPoint Peer { get; } = peer ?? throw new ArgumentNullException(nameof(peer));

    /// <inheritdoc/>
    public override AddressFamily AddressFamily => Peer.AddressFamily;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WebSocketEndPoint other && other.Peer.Equals(Peer);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(typeof(WebSocketEndPoint), Peer);

    /// <inheritdoc/>
    public override string ToString() => "ws:" + Peer;
}
