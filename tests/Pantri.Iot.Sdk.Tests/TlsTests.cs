using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pantri.Iot.Sdk.Tests;

/// <summary>UseTls through a TLS terminator in front of the gateway (as the README's deployment section puts one):
/// here a small SslStream proxy with a self-signed certificate, on loopback.</summary>
[Category("Integration")]
public sealed class TlsTests
{
    [Test]
    public async Task UseTls_with_the_gateways_self_signed_certificate_as_CA_gets_201_and_without_it_is_an_authentication_error()
    {
        await using var gateway = await GatewayLogs.StartAsync();
        await using var kit = new SdkTestKit();
        using var certificate = SelfSigned();
        var caPath = Path.Combine(kit.Directory, "gateway-ca.pem");
        await File.WriteAllTextAsync(caPath, certificate.ExportCertificatePem());
        using var stop = new CancellationTokenSource();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var proxy = TerminateTlsAsync(listener, certificate, gateway.MqttPort, stop.Token);

        var trusted = SdkTestKit.Button(gateway);
        trusted.Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        trusted.UseTls = true;
        trusted.TlsTargetHost = "localhost";
        trusted.TlsCaCertificatePath = caPath;
        var ack = await kit.Client(trusted).TriggerReorderAsync(DemoCredentials.ButtonRef);

        var untrusted = SdkTestKit.Button(gateway);
        untrusted.Port = trusted.Port;
        untrusted.UseTls = true;
        untrusted.TlsTargetHost = "localhost";
        var refused = Assert.ThrowsAsync<PantriAuthenticationException>(() => kit.Client(untrusted).ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token));

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(refused!.Message, Does.StartWith("TLS with 127.0.0.1:"));
        await stop.CancelAsync();
        listener.Stop();
        await proxy;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task TerminateTlsAsync(TcpListener listener, X509Certificate2 certificate, int gatewayPort, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                connections.Add(RelayAsync(client, certificate, gatewayPort, cancellationToken));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }

        await Task.WhenAll(connections);
    }

    private static async Task RelayAsync(TcpClient client, X509Certificate2 certificate, int gatewayPort, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(certificate);
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, gatewayPort, cancellationToken);
                var plain = upstream.GetStream();
                await Task.WhenAny(tls.CopyToAsync(plain, cancellationToken), plain.CopyToAsync(tls, cancellationToken));
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // The untrusting client hangs up mid-handshake; the test is over for the others.
            }
        }
    }
}
