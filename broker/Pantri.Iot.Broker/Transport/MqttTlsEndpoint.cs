using System.Net.Security;

namespace Pantri.Iot.Broker.Transport;

/// <summary>The broker's MQTT-over-TLS listener (MQTT's registered port is 8883). The host registers one in the
/// service collection when TLS is on; the broker then listens on <see cref="Port"/> beside (or instead of) its plain
/// port, and every TLS connection goes through the same guarded transport as a plain one: the connection caps at
/// accept, the TLS handshake within the CONNECT timeout, then the CONNECT timeout and frame guard on the decrypted
/// bytes. Only TLS 1.2 and 1.3 are offered.</summary>
/// <param name="address">Address to listen on (its own, so that plain MQTT can stay on loopback while TLS faces the
/// network).</param>
/// <param name="port">Port to listen on (0 picks a free port).</param>
/// <param name="certificate">The server certificate with its private key and chain; called once, when the listener
/// starts (so the host can load or generate it after it has locked its data directory).</param>
public sealed class MqttTlsEndpoint(System.Net.IPAddress address, int port, Func<SslStreamCertificateContext> certificate)
{
    /// <summary>Address to listen on.</summary>
    public System.Net.IPAddress Address { get; } = address;

    /// <summary>Port to listen on (0 picks a free port).</summary>
    public int Port { get; } = port;

    /// <summary>Loads the server certificate.</summary>
    internal SslStreamCertificateContext LoadCertificate() => certificate();
}
