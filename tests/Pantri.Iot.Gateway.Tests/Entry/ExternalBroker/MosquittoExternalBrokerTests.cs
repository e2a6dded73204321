using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Entry.ExternalBroker;

/// <summary>The gateway with <c>Pantri:Broker:Mode=External</c> behind Debian's Mosquitto running the shipped
/// mosquitto.conf: a device created through the setup API logs in to Mosquitto and is answered by the gateway
/// through it; Mosquitto refuses what the embedded broker refuses where it can express it.</summary>
[Category("Integration")]
[NonParallelizable]
public sealed class MosquittoExternalBrokerTests
{
    private MosquittoBroker? _broker;
    private TestGateway? _gateway;
    private string _userAuth = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        _gateway = await TestGateway.StartAsync(ExternalArgs(_broker!));
        _userAuth = _gateway!.Demo.UserAuth;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        // Also when the start failed half-way: the broker is a child process and must not outlive the run.
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        _broker?.Dispose();
    }

    public static string[] ExternalArgs(MosquittoBroker broker) =>
    [
        "--Pantri:Broker:Mode=External",
        "--Pantri:Broker:Host=127.0.0.1",
        $"--Pantri:Broker:Port={broker.Port}",
        $"--Pantri:Broker:Username={MosquittoBroker.GatewayUser}",
        $"--Pantri:Broker:Password={broker.GatewayPassword}",
    ];

    [Test]
    public async Task A_device_created_through_the_API_presses_through_Mosquitto_and_gets_the_gateways_ack()
    {
        var (deviceId, key, instructionRef) = await ProvisionAsync("ext-button");

        await using var device = await TestDevice.ConnectAsync(_broker!.Port, deviceId, key);
        var ack = await device.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":{{instructionRef}},"RequestId":"ext-1"}""");

        Assert.That(ack.Id, Is.EqualTo(201), ack.Status);
        Assert.That(ack.InstructionRef, Is.EqualTo(instructionRef));
        var order = _gateway!.Store.FindOrders("demo", 1000).Single(o => o.InstructionRef == instructionRef);
        Assert.That(order.Ref, Is.EqualTo(ack.OrderRef));

        // The same RequestId again (the device did not see the ack): the original ack, nothing new.
        var again = await device.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":{{instructionRef}},"RequestId":"ext-1"}""");
        Assert.That(again.CommandRef, Is.EqualTo(ack.CommandRef));
        Assert.That(_gateway!.Store.FindOrders("demo", 1000).Count(o => o.InstructionRef == instructionRef), Is.EqualTo(1));
    }

    [Test]
    public async Task Mosquitto_refuses_a_wrong_key_another_devices_client_id_and_an_unknown_device()
    {
        var (deviceId, key, _) = await ProvisionAsync("ext-keyed");

        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(_broker!.Port, deviceId, deviceId, key + "x")), Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(_broker!.Port, "ext-other-id", deviceId, key)), Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(_broker!.Port, "nobody-here", "nobody-here", key)), Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(_broker!.Port, deviceId, deviceId, key)), Is.EqualTo(MqttClientConnectResultCode.Success));
    }

    [Test]
    public async Task Mosquitto_keeps_a_device_out_of_other_devices_topics_the_whole_tree_and_shared_subscriptions()
    {
        var (a, keyA, _) = await ProvisionAsync("ext-alice");
        var (b, keyB, refB) = await ProvisionAsync("ext-bob");

        // With Debian's own clients, as a device maker would check it. -E: exit after SUBACK; -V 5: reason codes.
        foreach (var filter in new[] { "#", $"pantri/v1/devices/{b}/#", "pantri/v1/devices/+/ack", "$SYS/#", $"$share/{MosquittoBroker.GatewayUser}/pantri/v1/devices/+/trigger", $"$share/x/pantri/v1/devices/{a}/#", "pantri/v1/ops/#" })
        {
            var (_, output) = await _broker!.RunClientAsync("mosquitto_sub", TimeSpan.FromSeconds(5), "-i", a, "-u", a, "-P", keyA, "-V", "mqttv5", "-E", "-d", "-t", filter);
            Assert.That(output, Does.Contain("Subscribed (mid: 1): 135"), $"{filter} was not refused:\n{output}");
        }

        var (_, own) = await _broker!.RunClientAsync("mosquitto_sub", TimeSpan.FromSeconds(5), "-i", a, "-u", a, "-P", keyA, "-V", "mqttv5", "-E", "-d", "-t", $"pantri/v1/devices/{a}/#");
        Assert.That(own, Does.Contain("Subscribed (mid: 1): 0"), own);

        // Alice presses Bob's button: refused (PUBACK 0x87), no order for Bob's instruction, and Bob hears nothing.
        await using var bob = await TestDevice.ConnectAsync(_broker!.Port, b, keyB);
        await using var alice = await TestDevice.ConnectAsync(_broker!.Port, a, keyA);
        var refused = await alice.PublishRawAsync(Topics.Device(b, DeviceTopicKind.Trigger), $$"""{"Instruction_Ref":{{refB}},"RequestId":"evil"}""");
        Assert.That(refused.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        var sent = await alice.PublishRawAsync(Topics.Device(b, DeviceTopicKind.Ack), """{"CommandRef":1,"ID":201,"Status":"Done"}""");
        Assert.That(sent.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(await bob.ReceivesNothingAsync(_ => true, TimeSpan.FromMilliseconds(500)), Is.True);
        Assert.That(_gateway!.Store.FindOrders("demo", 1000).Where(o => o.InstructionRef == refB), Is.Empty);
    }

    [Test]
    public async Task A_retained_request_is_answered_400_and_not_kept_by_Mosquitto()
    {
        var (deviceId, key, instructionRef) = await ProvisionAsync("ext-retainer");
        await using var device = await TestDevice.ConnectAsync(_broker!.Port, deviceId, key);

        await device.PublishAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":{{instructionRef}},"RequestId":"r1"}""", retain: true);
        var ack = await device.NextAckAsync();

        Assert.That(ack.Id, Is.EqualTo(400), ack.Status);
        Assert.That(_gateway!.Store.FindOrders("demo", 1000).Where(o => o.InstructionRef == instructionRef), Is.Empty);
        // A new subscriber of the device's namespace is handed no retained request (the gateway cleared it).
        var (_, output) = await _broker!.RunClientAsync("mosquitto_sub", TimeSpan.FromSeconds(3), "-i", deviceId, "-u", deviceId, "-P", key, "-V", "mqttv5", "-W", "1", "--retained-only", "-v", "-t", $"pantri/v1/devices/{deviceId}/#");
        Assert.That(output, Does.Not.Contain("trigger"), output);
    }

    [Test]
    public async Task The_ops_state_reaches_Mosquitto_retained_but_no_made_up_presence()
    {
        // The gateway's user holds the plugin's admin role, which may read everything: as an ops dashboard would see it.
        var (_, output) = await _broker!.RunClientAsync("mosquitto_sub", TimeSpan.FromSeconds(5), "-u", MosquittoBroker.GatewayUser, "-P", _broker.GatewayPassword,
            "-V", "mqttv5", "-W", "2", "--retained-only", "-v", "-t", "pantri/v1/ops/#");

        Assert.That(output, Does.Contain($"pantri/v1/ops/inventory/{DemoCredentials.JarRef}"), output);
        Assert.That(output, Does.Not.Contain("pantri/v1/ops/devices/"), "an instance's start must not mark devices connected to the broker offline");
    }

    [Test]
    public async Task With_Mosquitto_down_creating_a_device_answers_503_and_shows_no_key()
    {
        var broker = await MosquittoBroker.StartAsync();
        await using var gateway = await TestGateway.StartAsync(ExternalArgs(broker));
        broker.Dispose();
        using var http = gateway.Http(gateway.Demo.UserAuth);

        var response = await http.PostAsJsonAsync("/v1/devices", new { Name = "no-broker" });
        var body = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(503), body);
        Assert.That(body, Does.Not.Contain("Device_Key"));
        Assert.That(body, Does.Contain("re-key"));
    }

    private async Task<(string DeviceId, string Key, long InstructionRef)> ProvisionAsync(string name)
    {
        using var http = _gateway!.Http(_userAuth);
        var device = await http.PostAsJsonAsync("/v1/devices", new { Name = name });
        Assert.That(device.StatusCode, Is.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.Created), await device.Content.ReadAsStringAsync());
        using var created = JsonDocument.Parse(await device.Content.ReadAsStringAsync());
        // The gateway assigns the id; the name is only a label.
        var deviceId = created.RootElement.GetProperty("DeviceId").GetString()!;
        var key = created.RootElement.GetProperty("Device_Key").GetString()!;
        var instruction = await http.PostAsJsonAsync("/v1/instructions", new { Product = "Tea", Retailer = "shop", DeviceIds = new[] { deviceId } });
        Assert.That(instruction.IsSuccessStatusCode, Is.True, await instruction.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await instruction.Content.ReadAsStringAsync());
        return (deviceId, key, body.RootElement.GetProperty("Instruction_Ref").GetInt64());
    }
}
