using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Entry.ExternalBroker;

/// <summary>The HTTP authenticator and authoriser an EMQX cluster calls (<c>POST /v1/broker/authenticate</c>,
/// <c>/v1/broker/authorize</c>), through the real gateway in External mode over HTTP, with EMQX 5's request bodies.
/// The gateway needs a broker to start in External mode: Debian's Mosquitto stands in (no EMQX is available offline);
/// the endpoints do not involve it.</summary>
[Category("Integration")]
[NonParallelizable]
public sealed class BrokerHttpAuthTests
{
    private const string Secret = "broker-http-auth-secret-0123456789abcdef";
    private MosquittoBroker? _broker;
    private TestGateway? _gateway;
    private DemoCredentials _demo = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        _gateway = await TestGateway.StartAsync([.. MosquittoExternalBrokerTests.ExternalArgs(_broker!), $"--Pantri:Broker:HttpAuthSecret={Secret}"]);
        _demo = _gateway!.Demo;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        _broker?.Dispose();
    }

    [Test]
    public async Task A_caller_without_the_shared_secret_gets_401()
    {
        var body = Login(DemoCredentials.Button, _demo.ButtonKey, "192.0.2.1");

        Assert.That((await PostAsync("/v1/broker/authenticate", body, secret: null)).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await PostAsync("/v1/broker/authenticate", body, secret: Secret + "x")).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await PostAsync("/v1/broker/authorize", Acl(DemoCredentials.Button, "publish", Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger)), secret: Secret[..^1])).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        // The same body with the secret: the device's right key is let in.
        Assert.That(await AnswerAsync("/v1/broker/authenticate", body), Is.EqualTo("allow"));
    }

    [Test]
    public async Task A_device_logs_in_with_its_key_only_as_itself_and_not_once_revoked()
    {
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(DemoCredentials.Jar, _demo.JarKey, "192.0.2.2")), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(DemoCredentials.Jar, _demo.JarKey + "x", "192.0.2.2")), Is.EqualTo("deny"));
        // Another device's key, a client id that is not the username, an unknown device, the provisioning identity.
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(DemoCredentials.Jar, _demo.ButtonKey, "192.0.2.2")), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "other-id", username = DemoCredentials.Jar, password = _demo.JarKey, peerhost = "192.0.2.2" }), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login("nobody-here", _demo.JarKey, "192.0.2.2")), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "prov-abc", username = Provisioning.UserName, password = "", peerhost = "192.0.2.2" }), Is.EqualTo("deny"));

        var (deviceId, key) = await CreateDeviceAsync("http-auth-revoked");
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(deviceId, key, "192.0.2.3")), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", Acl(deviceId, "publish", Topics.Device(deviceId, DeviceTopicKind.Trigger))), Is.EqualTo("allow"));
        using var http = _gateway!.Http(_demo.UserAuth);
        var revoked = await http.DeleteAsync($"/v1/devices/{deviceId}");
        Assert.That(revoked.IsSuccessStatusCode, Is.True, await revoked.Content.ReadAsStringAsync());

        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(deviceId, key, "192.0.2.3")), Is.EqualTo("deny"));
        // Still connected to the broker: it may no longer publish or subscribe.
        Assert.That(await AnswerAsync("/v1/broker/authorize", Acl(deviceId, "publish", Topics.Device(deviceId, DeviceTopicKind.Trigger))), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", Acl(deviceId, "subscribe", Topics.DeviceNamespace(deviceId) + "#")), Is.EqualTo("deny"));
    }

    [Test]
    public async Task A_device_publishes_only_its_own_requests_unretained_and_subscribes_only_in_its_namespace()
    {
        const string Me = DemoCredentials.Button;
        const string Other = DemoCredentials.Jar;
        var allowed = new[]
        {
            Acl(Me, "publish", Topics.Device(Me, DeviceTopicKind.Trigger)),
            Acl(Me, "publish", Topics.Device(Me, DeviceTopicKind.Level)),
            Acl(Me, "publish", Topics.Device(Me, DeviceTopicKind.Usage)),
            Acl(Me, "subscribe", Topics.DeviceNamespace(Me) + "ack"),
            Acl(Me, "subscribe", Topics.DeviceNamespace(Me) + "#"),
        };
        var denied = new[]
        {
            Acl(Other, "publish", Topics.Device(Me, DeviceTopicKind.Trigger)),
            Acl(Me, "publish", Topics.Device(Other, DeviceTopicKind.Trigger)),
            Acl(Me, "publish", Topics.Device(Me, DeviceTopicKind.Trigger), retain: "true"),
            Acl(Me, "publish", Topics.DeviceNamespace(Me) + "ack"),
            Acl(Me, "publish", Topics.OpsPrefix + "devices/" + Me),
            Acl(Me, "subscribe", "#"),
            Acl(Me, "subscribe", Topics.DevicesPrefix + "#"),
            Acl(Me, "subscribe", Topics.DevicesPrefix + "+/ack"),
            Acl(Me, "subscribe", Topics.DeviceNamespace(Other) + "#"),
            Acl(Me, "subscribe", $"$share/g/{Topics.DeviceNamespace(Me)}ack"),
            Acl(Me, "subscribe", "$SYS/#"),
            Acl(Me, "subscribe", Topics.OpsPrefix + "#"),
            Acl(Me, "delete", Topics.Device(Me, DeviceTopicKind.Trigger)),
        };

        foreach (var body in allowed)
        {
            Assert.That(await AnswerAsync("/v1/broker/authorize", body), Is.EqualTo("allow"), JsonSerializer.Serialize(body));
        }

        foreach (var body in denied)
        {
            Assert.That(await AnswerAsync("/v1/broker/authorize", body), Is.EqualTo("deny"), JsonSerializer.Serialize(body));
        }

        // EMQX's template may leave qos and retain unquoted: numbers and booleans are read too; a publish whose retain
        // is not told is refused.
        var topic = Topics.Device(Me, DeviceTopicKind.Trigger);
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = Me, username = Me, action = "publish", topic, qos = 1, retain = false }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = Me, username = Me, action = "publish", topic, qos = 1, retain = true }), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = Me, username = Me, action = "publish", topic, qos = 1 }), Is.EqualTo("deny"));
    }

    [Test]
    public async Task Ops_users_read_the_ops_topics_and_publish_nothing_and_the_gateway_user_gets_what_it_needs()
    {
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "ops-dash-1", username = TestGateway.OpsUser, password = TestGateway.OpsPassword, peerhost = "192.0.2.4" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "ops-dash-1", username = TestGateway.OpsUser, password = TestGateway.OpsPassword + "x", peerhost = "192.0.2.4" }), Is.EqualTo("deny"));
        // The ops credential under a client id outside ops-: not an ops login.
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "dash-1", username = TestGateway.OpsUser, password = TestGateway.OpsPassword, peerhost = "192.0.2.4" }), Is.EqualTo("deny"));

        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "ops-dash-1", username = TestGateway.OpsUser, action = "subscribe", topic = Topics.OpsPrefix + "#", qos = "0" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "ops-dash-1", username = TestGateway.OpsUser, action = "subscribe", topic = Topics.DevicesPrefix + "#", qos = "0" }), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "ops-dash-1", username = TestGateway.OpsUser, action = "publish", topic = Topics.OpsPrefix + "x", qos = "0", retain = "false" }), Is.EqualTo("deny"));

        var gatewayUser = MosquittoBroker.GatewayUser;
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "gw_host_1", username = gatewayUser, password = _broker!.GatewayPassword, peerhost = "192.0.2.5" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = "gw_host_1", username = gatewayUser, password = _broker!.GatewayPassword + "x", peerhost = "192.0.2.5" }), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "gw_host_1", username = gatewayUser, action = "subscribe", topic = "$share/pantri-gateway/pantri/v1/devices/+/trigger", qos = "1" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "gw_host_1", username = gatewayUser, action = "publish", topic = Topics.DeviceNamespace(DemoCredentials.Jar) + "ack", qos = "1", retain = "false" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "gw_host_1", username = gatewayUser, action = "publish", topic = Topics.OpsPrefix + "inventory/1", qos = "1", retain = "true" }), Is.EqualTo("allow"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "gw_host_1", username = gatewayUser, action = "subscribe", topic = "#", qos = "1" }), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authorize", new { clientid = "gw_host_1", username = gatewayUser, action = "publish", topic = "elsewhere/x", qos = "1", retain = "false" }), Is.EqualTo("deny"));
    }

    [Test]
    public async Task A_burst_of_wrong_keys_locks_that_client_id_at_that_address_and_then_the_address()
    {
        var (deviceId, key) = await CreateDeviceAsync("http-auth-throttled");
        const string Guesser = "198.51.100.7";
        for (var i = 0; i < 5; i++)
        {
            Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(deviceId, $"guess-{i}", Guesser)), Is.EqualTo("deny"));
        }

        // Past the limit the right key is refused too, from the guesser's address; the device at its own is let in.
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(deviceId, key, Guesser)), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(deviceId, key, "198.51.100.8")), Is.EqualTo("allow"));

        // Spread over other client ids, the address reaches its own limit (20 a minute): even the demo jar's right key
        // is refused from there.
        for (var i = 0; i < 15; i++)
        {
            await AnswerAsync("/v1/broker/authenticate", Login($"guess-device-{i}", "wrong", Guesser));
        }

        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(DemoCredentials.Jar, _demo.JarKey, Guesser)), Is.EqualTo("deny"));
        Assert.That(await AnswerAsync("/v1/broker/authenticate", Login(DemoCredentials.Jar, _demo.JarKey, "198.51.100.9")), Is.EqualTo("allow"));
    }

    [Test]
    public async Task An_unreadable_body_is_denied_with_200_so_the_broker_never_reads_it_as_ignore()
    {
        using var http = _gateway!.Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/broker/authenticate") { Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Secret);
        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetString(), Is.EqualTo("deny"));
        // No peerhost: refused rather than left out of the throttle.
        Assert.That(await AnswerAsync("/v1/broker/authenticate", new { clientid = DemoCredentials.Jar, username = DemoCredentials.Jar, password = _demo.JarKey }), Is.EqualTo("deny"));
    }

    [Test]
    public async Task In_embedded_mode_the_endpoints_do_not_exist()
    {
        await using var embedded = await TestGateway.StartAsync([$"--Pantri:Broker:HttpAuthSecret={Secret}"]);
        using var http = embedded.Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/broker/authenticate") { Content = JsonContent.Create(Login(DemoCredentials.Jar, embedded.Demo.JarKey, "192.0.2.6")) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Secret);
        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private static object Login(string clientId, string password, string peerhost) =>
        new { clientid = clientId, username = clientId, password, peerhost, proto_name = "MQTT" };

    private static object Acl(string clientId, string action, string topic, string retain = "false") =>
        new { clientid = clientId, username = clientId, peerhost = "192.0.2.50", action, topic, qos = "1", retain };

    private async Task<string?> AnswerAsync(string path, object body)
    {
        var (status, result) = await PostAsync(path, body, Secret);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        return result;
    }

    private async Task<(HttpStatusCode Status, string? Result)> PostAsync(string path, object body, string? secret)
    {
        using var http = _gateway!.Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (secret is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }

        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (response.StatusCode, null);
        }

        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(answer.RootElement.GetProperty("is_superuser").GetBoolean(), Is.False);
        return (response.StatusCode, answer.RootElement.GetProperty("result").GetString());
    }

    private async Task<(string DeviceId, string Key)> CreateDeviceAsync(string name)
    {
        using var http = _gateway!.Http(_demo.UserAuth);
        var device = await http.PostAsJsonAsync("/v1/devices", new { Name = name });
        Assert.That(device.IsSuccessStatusCode, Is.True, await device.Content.ReadAsStringAsync());
        using var created = JsonDocument.Parse(await device.Content.ReadAsStringAsync());
        return (created.RootElement.GetProperty("DeviceId").GetString()!, created.RootElement.GetProperty("Device_Key").GetString()!);
    }
}
