using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Broker;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Tls;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>TLS on every listener, as a household would run it: the generated CA in the data directory, Debian's
/// <c>mosquitto_rr</c> and MQTTnet over TLS, HTTPS and WSS through Kestrel with the same certificate.</summary>
[Category("Integration")]
public sealed class TlsListenerTests
{
    private static readonly string[] TlsArgs =
    [
        "--Pantri:Tls:Enabled=true",
        "--Pantri:Tls:GenerateSelfSigned=true",
        "--Pantri:Tls:MqttPort=0",
        "--Pantri:Tls:MqttBindAddress=127.0.0.1",
        "--urls=https://127.0.0.1:0",
    ];

    [Test]
    public async Task Mosquitto_rr_with_the_generated_CA_presses_the_demo_button_over_TLS_while_plain_MQTT_is_off()
    {
        await using var gateway = await TestGateway.StartAsync([.. TlsArgs, "--Pantri:Mqtt:PlainTcp=false"]);
        var broker = gateway.Services.GetRequiredService<EmbeddedMqttServer>();

        var rr = await MosquittoRrAsync(gateway, broker.TlsPort, "--cafile", CaPath(gateway));

        Assert.That(rr.ExitCode, Is.EqualTo(0), rr.Stderr);
        var ack = ContractJson.DeserializeAcknowledgement(System.Text.Encoding.UTF8.GetBytes(rr.Stdout.Trim()))!;
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(gateway.Orders(DemoCredentials.ButtonRef).Single().Ref, Is.EqualTo(ack.OrderRef));
        Assert.That(broker.Port, Is.Zero, "no plain listener");
        Assert.That(File.ReadAllText(CaPath(gateway)), Does.StartWith("-----BEGIN CERTIFICATE-----"));
    }

    [Test]
    public async Task Plain_MQTT_and_an_untrusted_client_are_refused_on_the_TLS_port_and_an_MQTTnet_client_trusting_the_CA_reports_a_level()
    {
        await using var gateway = await TestGateway.StartAsync(TlsArgs);
        var port = gateway.Services.GetRequiredService<EmbeddedMqttServer>().TlsPort;
        using var ca = TlsTrust.LoadCa(CaPath(gateway));

        var plain = TestDevice.Options(port, DemoCredentials.Jar, DemoCredentials.Jar, gateway.Demo.JarKey);
        Assert.That(async () => await TestDevice.TryConnectAsync(plain), Throws.Exception, "plain MQTT to the TLS port");
        var otherDir = Directory.CreateTempSubdirectory("pantri-other-ca-").FullName;
        try
        {
            var (otherCa, _) = WriteRsaCertificate(otherDir);
            var untrusted = await MosquittoRrAsync(gateway, port, "--cafile", otherCa);
            Assert.That(untrusted.ExitCode, Is.Not.Zero, "mosquitto_rr trusting another CA");
            Assert.That(untrusted.Stderr, Does.Contain("certificate verify failed").Or.Contain("TLS").IgnoreCase);
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }

        Assert.That(gateway.Orders(DemoCredentials.ButtonRef), Is.Empty, "nothing pressed through the refused connections");

        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(DemoCredentials.Jar)
            .WithCredentials(DemoCredentials.Jar, gateway.Demo.JarKey).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10)).WithCa(ca).Build();
        await using var jar = await TestDevice.ConnectAsync(options, DemoCredentials.Jar, subscribeAck: true);
        var ack = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": 9}""");

        Assert.That(ack.Id, Is.EqualTo(AckIds.Recorded));
        Assert.That(ack.Level, Is.EqualTo(9));
    }

    [Test]
    public async Task The_TLS_port_is_guarded_like_the_plain_one_a_silent_connection_is_closed_and_the_per_address_cap_holds()
    {
        await using var gateway = await TestGateway.StartAsync([.. TlsArgs, "--Pantri:Mqtt:ConnectTimeout=00:00:00.5", "--Pantri:Mqtt:MaxConnectionsPerAddress=2"]);
        var port = gateway.Services.GetRequiredService<EmbeddedMqttServer>().TlsPort;
        using var first = new TcpClient();
        using var second = new TcpClient();
        using var third = new TcpClient();
        await first.ConnectAsync("127.0.0.1", port);
        await second.ConnectAsync("127.0.0.1", port);
        await third.ConnectAsync("127.0.0.1", port);

        var buffer = new byte[16];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var thirdRead = await ReadOrResetAsync(third, buffer, bound.Token);
        var firstRead = await ReadOrResetAsync(first, buffer, bound.Token);

        Assert.That(thirdRead, Is.Zero, "the third connection from one address is closed at accept");
        Assert.That(firstRead, Is.Zero, "a connection that never starts TLS is closed");
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "within the CONNECT timeout, not MQTTnet's 100 s");
    }

    [Test]
    public async Task Only_TLS_1_2_and_1_3_are_offered_openssl_asking_for_TLS_1_1_gets_a_protocol_version_alert()
    {
        await using var gateway = await TestGateway.StartAsync(TlsArgs);
        var port = gateway.Services.GetRequiredService<EmbeddedMqttServer>().TlsPort;

        var answers = new Dictionary<string, ExternalProcess.Result>();
        foreach (var version in (string[])["-tls1_1", "-tls1_2", "-tls1_3"])
        {
            // The server's answer, not the client's refusal: "alert protocol version" is the alert the server sends.
            answers[version] = await ExternalProcess.RunAsync("bash",
                ["-c", $"openssl s_client -connect 127.0.0.1:{port} {version} -CAfile '{CaPath(gateway)}' -servername localhost -brief </dev/null"]);
        }

        Assert.That(answers["-tls1_1"].Stderr + answers["-tls1_1"].Stdout, Does.Contain("alert protocol version"));
        Assert.That(answers["-tls1_2"].Stderr + answers["-tls1_2"].Stdout, Does.Contain("Protocol version: TLSv1.2").And.Contain("Verification: OK"));
        Assert.That(answers["-tls1_3"].Stderr + answers["-tls1_3"].Stdout, Does.Contain("Protocol version: TLSv1.3").And.Contain("Verification: OK"));
    }

    private static async Task<int> ReadOrResetAsync(TcpClient client, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetStream().ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            return 0; // reset: closed as well
        }
    }

    [Test]
    public async Task HTTPS_trusting_the_CA_places_an_order_with_the_seeds_headers_and_an_untrusting_client_is_refused()
    {
        await using var gateway = await TestGateway.StartAsync(TlsArgs);
        var https = HttpsBase(gateway);
        using var ca = TlsTrust.LoadCa(CaPath(gateway));
        using var trusting = TlsTrust.Https(ca, https);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.Add(HttpHeaders.DeviceKey, gateway.Demo.ButtonKey);
        request.Headers.Add(HttpHeaders.InstructionRef, DemoCredentials.ButtonRef.ToString(CultureInfo.InvariantCulture));

        using var response = await trusting.SendAsync(request);
        using var untrusting = new HttpClient { BaseAddress = https, Timeout = TimeSpan.FromSeconds(10) };

        Assert.That((int)response.StatusCode, Is.EqualTo(AckIds.OrderPlaced), await response.Content.ReadAsStringAsync());
        Assert.That(https.Scheme, Is.EqualTo("https"));
        Assert.That(async () => await untrusting.GetAsync("/healthz"), Throws.InstanceOf<HttpRequestException>());
    }

    [Test]
    public async Task WSS_at_mqtt_trusting_the_CA_presses_the_demo_button()
    {
        await using var gateway = await TestGateway.StartAsync(TlsArgs);
        using var ca = TlsTrust.LoadCa(CaPath(gateway));
        var uri = new UriBuilder(HttpsBase(gateway)) { Scheme = "wss", Host = "localhost", Path = "/mqtt" }.Uri.ToString();
        var options = new MqttClientOptionsBuilder().WithWebSocketServer(o => o.WithUri(uri)).WithClientId(DemoCredentials.Button)
            .WithCredentials(DemoCredentials.Button, gateway.Demo.ButtonKey).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10)).WithCa(ca).Build();

        await using var button = await TestDevice.ConnectAsync(options, DemoCredentials.Button, subscribeAck: true);
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "wss-1"}""");

        Assert.That(uri, Does.StartWith("wss://localhost:"));
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(ack.RequestId, Is.EqualTo("wss-1"));
    }

    [Test]
    public async Task A_restart_keeps_the_CA_devices_trust_and_a_new_host_name_is_served_by_a_certificate_it_signed()
    {
        await using var gateway = await TestGateway.StartAsync(TlsArgs);
        var caBefore = await File.ReadAllTextAsync(CaPath(gateway));
        await gateway.StopAsync();

        await using var renamed = await TestGateway.StartAsync([.. TlsArgs, "--Pantri:Tls:HostNames:0=pantri.home.arpa", "--Pantri:Tls:HostNames:1=192.0.2.7"], dataDirectory: gateway.DataDirectory);
        using var ca = TlsTrust.LoadCa(CaPath(renamed));
        var port = renamed.Services.GetRequiredService<EmbeddedMqttServer>().TlsPort;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, errors) => TlsTrust.Validate(ca, certificate, errors));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "pantri.home.arpa" });

        Assert.That(await File.ReadAllTextAsync(CaPath(renamed)), Is.EqualTo(caBefore), "the CA devices trust is kept");
        Assert.That(tls.IsAuthenticated, Is.True);
        Assert.That(tls.SslProtocol, Is.AnyOf(System.Security.Authentication.SslProtocols.Tls12, System.Security.Authentication.SslProtocols.Tls13));
        var served = new X509Certificate2(tls.RemoteCertificate!);
        var names = served.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.That(names.EnumerateIPAddresses().Select(a => a.ToString()), Does.Contain("192.0.2.7"));
    }

    [Test]
    public async Task A_configured_PEM_certificate_serves_MQTT_over_TLS_and_a_missing_key_file_refuses_the_start_naming_it()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-pem-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var (certPath, keyPath) = WriteRsaCertificate(dir);
            string[] args = ["--Pantri:Tls:Enabled=true", $"--Pantri:Tls:CertificatePath={certPath}", $"--Pantri:Tls:KeyPath={keyPath}", "--Pantri:Tls:MqttPort=0", "--Pantri:Tls:MqttBindAddress=127.0.0.1"];
            await using (var gateway = await TestGateway.StartAsync(args))
            {
                var rr = await MosquittoRrAsync(gateway, gateway.Services.GetRequiredService<EmbeddedMqttServer>().TlsPort, "--cafile", certPath);
                Assert.That(rr.ExitCode, Is.EqualTo(0), rr.Stderr);
                Assert.That(rr.Stdout, Does.Contain("\"ID\":201"));
                Assert.That(Directory.Exists(Path.Combine(gateway.DataDirectory, ServerCertificates.FolderName)), Is.False, "nothing generated");
            }

            var missing = Path.Combine(dir, "missing-key.pem");
            var refused = Assert.CatchAsync(async () => await TestGateway.StartAsync(["--Pantri:Tls:Enabled=true", $"--Pantri:Tls:CertificatePath={certPath}", $"--Pantri:Tls:KeyPath={missing}", "--Pantri:Tls:MqttBindAddress=127.0.0.1"]));
            Assert.That(refused, Is.InstanceOf<GatewayStartupException>());
            Assert.That(refused!.Message, Does.Contain(missing));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string CaPath(TestGateway gateway) => Path.Combine(gateway.DataDirectory, ServerCertificates.FolderName, ServerCertificates.CaFileName);

    private static Uri HttpsBase(TestGateway gateway) =>
        new(gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)).Replace("127.0.0.1", "localhost", StringComparison.Ordinal));

    private static Task<ExternalProcess.Result> MosquittoRrAsync(TestGateway gateway, int port, params string[] trust) =>
        ExternalProcess.RunAsync("mosquitto_rr",
        [
            "-V", "mqttv311", "-h", "localhost", "-p", port.ToString(CultureInfo.InvariantCulture), .. trust,
            "-i", DemoCredentials.Button, "-u", DemoCredentials.Button, "-P", gateway.Demo.ButtonKey, "-q", "1",
            "-t", Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger), "-e", Topics.Device(DemoCredentials.Button, DeviceTopicKind.Ack),
            "-m", """{"RequestId": "tls-rr"}""", "-W", "10",
        ]);

    /// <summary>A self-signed RSA server certificate for localhost, as PEM files the way certbot or openssl leave them.</summary>
    private static (string CertPath, string KeyPath) WriteRsaCertificate(string dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certPath = Path.Combine(dir, "fullchain.pem");
        var keyPath = Path.Combine(dir, "privkey.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
