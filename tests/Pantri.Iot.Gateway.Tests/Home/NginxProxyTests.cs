using System.Globalization;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Tls;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>The shipped <c>deploy/nginx.conf</c> in front of a real gateway, with Debian's nginx: the README's
/// <c>curl</c> commands, MQTT over TLS through the <c>stream</c> block and WSS through the <c>/mqtt</c> upgrade all work;
/// without <c>underscores_in_headers on</c> the seed's headers vanish and the press answers 401, as the file says.</summary>
[Category("Integration")]
public sealed class NginxProxyTests
{
    private static readonly string[] GatewayArgs =
    [
        // The gateway only generates the certificate nginx serves; it speaks plain text to nginx on loopback.
        "--Pantri:Tls:Enabled=true",
        "--Pantri:Tls:GenerateSelfSigned=true",
        "--Pantri:Tls:MqttPort=0",
        "--Pantri:Tls:MqttBindAddress=127.0.0.1",
        "--Pantri:Mqtt:ProxyAddresses:0=127.0.0.1",
    ];

    [Test]
    public async Task The_READMEs_curl_commands_MQTT_over_TLS_and_WSS_work_through_the_shipped_nginx_config()
    {
        await using var gateway = await TestGateway.StartAsync(GatewayArgs);
        var tls = Path.Combine(gateway.DataDirectory, ServerCertificates.FolderName);
        var ca = Path.Combine(tls, ServerCertificates.CaFileName);
        using var nginx = await NginxProxy.StartAsync(gateway.HttpBase.Port, gateway.MqttPort, tls);
        var demo = gateway.Demo;
        var api = $"https://localhost:{nginx.HttpsPort}";

        // Quickstart: the same press over HTTP, as a device and as an app user.
        var device = await CurlAsync(ca, "-X", "POST", $"{api}/v1/trigger", "-H", $"Device_Key: {demo.ButtonKey}", "-H", $"Instruction_Ref: {DemoCredentials.ButtonRef}");
        var app = await CurlAsync(ca, "-X", "POST", $"{api}/v1/trigger", "-H", $"User_Auth: {demo.UserAuth}", "-H", $"Instruction_Ref: {DemoCredentials.ButtonRef}");
        var orders = await CurlAsync(ca, $"{api}/v1/orders", "-H", $"User_Auth: {demo.UserAuth}");
        var orderRef = JsonDocument.Parse(device.Body).RootElement.GetProperty("OrderRef").GetInt64();
        var cancel = await CurlAsync(ca, "-X", "POST", $"{api}/v1/orders/{orderRef}/state", "-H", $"User_Auth: {demo.UserAuth}",
            "-H", "Content-Type: application/json", "-d", """{"State":"Cancelled"}""");
        var again = await CurlAsync(ca, "-X", "POST", $"{api}/v1/trigger", "-H", $"Device_Key: {demo.ButtonKey}", "-H", $"Instruction_Ref: {DemoCredentials.ButtonRef}");

        Assert.That(device.Status, Is.EqualTo(201), device.Body + nginx.ErrorLog);
        Assert.That(app.Status, Is.EqualTo(409), app.Body);
        Assert.That(app.Body, Does.Contain(orderRef.ToString(CultureInfo.InvariantCulture)));
        Assert.That(orders.Status, Is.EqualTo(200));
        Assert.That(orders.Body, Does.Contain(orderRef.ToString(CultureInfo.InvariantCulture)));
        Assert.That(cancel.Status, Is.EqualTo(200), cancel.Body);
        Assert.That(again.Status, Is.EqualTo(201), again.Body);

        // MQTT over TLS through the stream block (terminated by nginx), as firmware does it.
        var rr = await ExternalProcess.RunAsync("mosquitto_rr",
        [
            "-V", "mqttv311", "-h", "localhost", "-p", nginx.MqttsPort.ToString(CultureInfo.InvariantCulture), "--cafile", ca,
            "-i", DemoCredentials.Jar, "-u", DemoCredentials.Jar, "-P", demo.JarKey, "-q", "1",
            "-t", Topics.Device(DemoCredentials.Jar, DeviceTopicKind.Level), "-e", Topics.Device(DemoCredentials.Jar, DeviceTopicKind.Ack),
            "-m", $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": 10}""", "-W", "10",
        ]);
        Assert.That(rr.ExitCode, Is.EqualTo(0), rr.Stderr + nginx.ErrorLog);
        Assert.That(rr.Stdout, Does.Contain("\"ID\":200").And.Contain("\"Level\":10"));

        // MQTT over WSS through the /mqtt upgrade, as the ops dashboard's client connects.
        using var trustedCa = TlsTrust.LoadCa(ca);
        var options = new MqttClientOptionsBuilder().WithWebSocketServer(o => o.WithUri($"wss://localhost:{nginx.HttpsPort}/mqtt"))
            .WithClientId(DemoCredentials.Button).WithCredentials(DemoCredentials.Button, demo.ButtonKey)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(10)).WithCa(trustedCa).Build();
        await using var button = await TestDevice.ConnectAsync(options, DemoCredentials.Button, subscribeAck: true);
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "via-nginx"}""");
        Assert.That(ack.Id, Is.EqualTo(AckIds.Conflict), "the order placed by the second curl is open");
        Assert.That(ack.OrderRef, Is.EqualTo(JsonDocument.Parse(again.Body).RootElement.GetProperty("OrderRef").GetInt64()));
    }

    [Test]
    public async Task Without_underscores_in_headers_the_seeds_headers_vanish_and_the_press_answers_401()
    {
        await using var gateway = await TestGateway.StartAsync(GatewayArgs);
        var tls = Path.Combine(gateway.DataDirectory, ServerCertificates.FolderName);
        using var nginx = await NginxProxy.StartAsync(gateway.HttpBase.Port, gateway.MqttPort, tls,
            config => config.Replace("underscores_in_headers on;", "underscores_in_headers off;", StringComparison.Ordinal));

        var press = await CurlAsync(Path.Combine(tls, ServerCertificates.CaFileName), "-X", "POST", $"https://localhost:{nginx.HttpsPort}/v1/trigger",
            "-H", $"Device_Key: {gateway.Demo.ButtonKey}", "-H", $"Instruction_Ref: {DemoCredentials.ButtonRef}");

        Assert.That(press.Status, Is.EqualTo(401), press.Body);
        Assert.That(gateway.Orders(DemoCredentials.ButtonRef), Is.Empty);
    }

    private sealed record Answer(int Status, string Body);

    /// <summary>curl as the README writes it, trusting the gateway's CA; returns the status code and the body.</summary>
    private static async Task<Answer> CurlAsync(string ca, params string[] args)
    {
        var result = await ExternalProcess.RunAsync("curl", ["-sS", "--cacert", ca, "-w", "\n%{http_code}", .. args]);
        Assert.That(result.ExitCode, Is.EqualTo(0), $"curl {string.Join(' ', args)}: {result.Stderr}");
        var split = result.Stdout.LastIndexOf('\n');
        return new Answer(int.Parse(result.Stdout[(split + 1)..], CultureInfo.InvariantCulture), result.Stdout[..split]);
    }
}
