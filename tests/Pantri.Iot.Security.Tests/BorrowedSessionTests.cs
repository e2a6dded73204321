using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Finding 1 (critical): device and ops client ids shared one namespace, and MQTTnet resumes the session of
/// any client that connects with its id and asks to keep it, whoever authenticated. A session must stay with the
/// identity that created it.</summary>
public sealed class BorrowedSessionTests : GatewayTest
{
    [TestCase(true, TestName = "The ops credential cannot take over an online device's session with its client id")]
    [TestCase(false, TestName = "The ops credential cannot connect with the client id of a device that went offline")]
    public async Task The_ops_credential_cannot_borrow_a_devices_session(bool deviceOnline)
    {
        var button = await ConnectPersistentAsync(DemoCredentials.Button, DemoCredentials.Button, Gateway.Demo.ButtonKey);
        await button.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Ack), MqttQualityOfServiceLevel.AtLeastOnce);
        if (!deviceOnline)
        {
            await button.DisconnectAsync();
        }

        using var ops = new MqttClientFactory().CreateMqttClient();
        var received = new List<string>();
        ops.ApplicationMessageReceivedAsync += e =>
        {
            lock (received)
            {
                received.Add(e.ApplicationMessage.Topic);
            }

            return Task.CompletedTask;
        };
        var options = TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, TestGateway.OpsUser, TestGateway.OpsPassword, MqttProtocolVersion.V311);
        options.CleanSession = false;
        var result = await ops.ConnectAsync(options);
        MqttClientPublishResult? publish = null;
        if (ops.IsConnected)
        {
            // What the attacker does with a borrowed device session: press the household's button.
            publish = await ops.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger))
                .WithPayload(Encoding.UTF8.GetBytes("123456789")).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        Assert.Multiple(() =>
        {
            Assert.That(result.ResultCode, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized), "a device's client id is not in the ops namespace");
            Assert.That(publish?.ReasonCode, Is.Null, "the ops credential published as the device");
            Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Is.Empty, "an order was placed in the household");
            Assert.That(button.IsConnected, Is.EqualTo(deviceOnline), "the device's connection was taken over");
        });

        if (deviceOnline)
        {
            // The device still owns its session: its own press is acknowledged to it, and not to the ops client.
            await button.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger))
                .WithPayload(Encoding.UTF8.GetBytes("123456789")).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            await WaitForOrderAsync();
            lock (received)
            {
                Assert.That(received, Is.Empty, "the ops client received the device's messages");
            }
        }

        button.Dispose();
    }

    [Test]
    public async Task The_ops_credential_needs_a_client_id_in_the_ops_namespace()
    {
        var outside = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "dashboard-1", TestGateway.OpsUser, TestGateway.OpsPassword));
        var inside = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-dashboard-1", TestGateway.OpsUser, TestGateway.OpsPassword));

        Assert.That(outside, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(inside, Is.EqualTo(MqttClientConnectResultCode.Success));
    }

    [TestCase("ops-test")]
    [TestCase("prov-test")]
    public async Task A_household_cannot_register_a_device_id_in_a_reserved_namespace(string deviceId)
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);

        var response = await http.PostAsync("/v1/devices", new StringContent($$"""{"Name":"Probe","DeviceId":"{{deviceId}}"}""", Encoding.UTF8, "application/json"));
        var assigned = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("DeviceId").GetString();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(assigned, Is.Not.EqualTo(deviceId), "the id asked for is ignored");
        Assert.That(DeviceIds.IsReserved(assigned), Is.False);
    }

    /// <summary>The attack of the issue, end to end: a household registers a device whose id is the dashboard's
    /// client id and connects with a persistent session while the dashboard is online.</summary>
    [Test]
    public async Task A_device_never_inherits_the_dashboards_session()
    {
        await using var dashboard = await OpsClient.ConnectAsync(Gateway, cleanStart: false); // client id "ops-test"
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var created = await http.PostAsync("/v1/devices", new StringContent("""{"Name":"Dashboard","DeviceId":"ops-test"}""", Encoding.UTF8, "application/json"));
        var key = created.IsSuccessStatusCode ? (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Device_Key").GetString()! : "no-key-was-issued";

        using var attacker = new MqttClientFactory().CreateMqttClient();
        var stolen = 0;
        attacker.ApplicationMessageReceivedAsync += e =>
        {
            Interlocked.Increment(ref stolen);
            return Task.CompletedTask;
        };
        var options = TestDevice.Options(Gateway.MqttPort, "ops-test", "ops-test", key, MqttProtocolVersion.V311);
        options.CleanSession = false;
        var result = await attacker.ConnectAsync(options);

        // Something happens in the household: the dashboard's session would carry it to whoever holds the session.
        await using (var button = await Gateway.ConnectButtonAsync())
        {
            await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        }

        await Task.Delay(300);
        Assert.Multiple(() =>
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), "a device is made, under an id of the gateway's choosing");
            Assert.That(result.ResultCode, Is.Not.EqualTo(MqttClientConnectResultCode.Success));
            Assert.That(stolen, Is.Zero, "ops messages reached the household's device");
        });
    }

    private async Task<IMqttClient> ConnectPersistentAsync(string clientId, string userName, string password)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = TestDevice.Options(Gateway.MqttPort, clientId, userName, password, MqttProtocolVersion.V311);
        options.CleanSession = false;
        var result = await client.ConnectAsync(options);
        Assert.That(result.ResultCode, Is.EqualTo(MqttClientConnectResultCode.Success));
        return client;
    }

    private async Task WaitForOrderAsync()
    {
        for (var i = 0; i < 100 && Gateway.Orders(DemoCredentials.ButtonRef).Count == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1), "the device's own press placed its order");
    }
}
