using System.Net;

namespace Pantri.Iot.Broker.Transport;

/// <summary>What <see cref="GuardedTcpServerAdapter"/> enforces before a client has logged in.</summary>
/// <param name="Endpoint">Where to listen.</param>
/// <param name="MaxPacketSize">Largest MQTT packet, header included.</param>
/// <param name="MaxConnections">Most simultaneous connections (already clamped below the open-file limit).</param>
/// <param name="MaxConnectionsPerAddress">Most simultaneous connections from one source address.</param>
/// <param name="ConnectTimeout">How long a new connection may take to deliver its whole CONNECT packet.</param>
/// <param name="ProxyAddresses">Source addresses not counted per address (TLS-terminating proxies in front).</param>
/// <param name="PlainTcp">Whether to listen for plain (unencrypted) MQTT on <paramref name="Endpoint"/>.</param>
internal sealed record TransportLimits(
    IPEndPoint Endpoint,
    int MaxPacketSize,
    int MaxConnections,
    int MaxConnectionsPerAddress,
    TimeSpan ConnectTimeout,
    IReadOnlySet<IPAddress> ProxyAddresses,
    bool PlainTcp = true);
