using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

/// <summary>Ops messages are delivered to the ops sessions directly (no scan of every session): only to matching
/// filters, still retained for late subscribers, and not lost when an ops client reconnects under the same id.</summary>
public sealed class OpsDeliveryTests : GatewayTest
{
    [Test]
    public async Task An_ops_client_gets_only_the_ops_topics_its_filter_matches()
    {
        await using var events = await OpsClient.ConnectAsync(Gateway, Topics.OpsEvents);
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        await events.NextJsonAsync(Topics.OpsEvents, e => e.GetProperty("Ack").GetProperty("CommandRef").GetInt64() == ack.CommandRef);

        Assert.That(await events.ReceivesNothingAsync(t => t != Topics.OpsEvents, TimeSpan.FromMilliseconds(500)), Is.True, "presence and orders are outside the filter");
    }

    [Test]
    public async Task Presence_says_why_a_device_went_offline()
    {
        await using var ops = await OpsClient.ConnectAsync(Gateway);
        var device = Topics.OpsDevice(DemoCredentials.Button);
        // A new dashboard first gets the presence rebuilt at start (retained).
        await ops.NextJsonAsync(device, p => p.GetProperty("Reason").GetString() == "gateway-restarted");

        var clean = await Gateway.ConnectButtonAsync();
        await clean.DisposeAsync();
        Assert.That((await ops.NextJsonAsync(device, p => p.GetProperty("Status").GetString() == "offline")).GetProperty("Reason").GetString(), Is.EqualTo("clean"));

        var dropped = await Gateway.ConnectButtonAsync();
        dropped.Client.Dispose();
        Assert.That((await ops.NextJsonAsync(device, p => p.GetProperty("Status").GetString() == "offline")).GetProperty("Reason").GetString(), Is.EqualTo("dropped"));

        await using var first = await Gateway.ConnectButtonAsync();
        await using var second = await Gateway.ConnectButtonAsync();
        Assert.That((await ops.NextJsonAsync(device, p => p.GetProperty("Status").GetString() == "offline")).GetProperty("Reason").GetString(), Is.EqualTo("takeover"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task An_ops_client_taken_over_under_the_same_id_keeps_getting_ops_messages(bool cleanStart)
    {
        await using var stale = await OpsClient.ConnectAsync(Gateway);
        await using var ops = await OpsClient.ConnectAsync(Gateway, cleanStart: cleanStart);
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");

        await ops.NextJsonAsync(Topics.OpsEvents, e => e.GetProperty("Ack").GetProperty("CommandRef").GetInt64() == ack.CommandRef);
    }

    [Test]
    public async Task A_retained_ops_message_reaches_a_late_subscriber_once_with_the_retain_flag()
    {
        await using (var watcher = await OpsClient.ConnectAsync(Gateway, Topics.OpsDevice(DemoCredentials.Button)))
        {
            await using (var button = await Gateway.ConnectButtonAsync())
            {
                await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
            }

            // The late subscriber comes after the offline presence is published: a retained update racing a SUBSCRIBE may
            // be missed by it (MQTTnet snapshots retained messages before adding the subscription), which is not this test.
            await watcher.NextJsonAsync(Topics.OpsDevice(DemoCredentials.Button), p => p.GetProperty("Status").GetString() == "offline" && p.TryGetProperty("Reason", out var r) && r.GetString() != "gateway-restarted");
        }

        var retained = new List<MqttApplicationMessage>();
        using var client = await ConnectOpsCollectingAsync("ops-late", retained);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.OpsDevice(DemoCredentials.Button), MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Task.Delay(500);

        lock (retained)
        {
            Assert.That(retained, Has.Count.EqualTo(1));
            Assert.That(retained[0].Retain, Is.True);
            Assert.That(retained[0].ConvertPayloadToString(), Does.Contain("\"offline\""));
        }
    }

    [Test]
    public async Task An_ops_subscription_gets_the_retained_state_as_its_MQTT_5_retain_handling_asks()
    {
        // The presence rebuilt at start is retained for the demo button.
        var topic = Topics.OpsDevice(DemoCredentials.Button);
        var received = new List<MqttApplicationMessage>();
        using var client = await ConnectOpsCollectingAsync("ops-retain-handling", received);

        async Task<List<MqttApplicationMessage>> SubscribeAsync(MqttRetainHandling handling, MqttQualityOfServiceLevel qos)
        {
            lock (received)
            {
                received.Clear();
            }

            var filter = new MqttTopicFilterBuilder().WithTopic(topic).WithQualityOfServiceLevel(qos).WithRetainHandling(handling).Build();
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter).Build());
            await Task.Delay(400);
            lock (received)
            {
                return received.Where(m => m.Topic == topic).ToList();
            }
        }

        Assert.That(await SubscribeAsync(MqttRetainHandling.DoNotSendOnSubscribe, MqttQualityOfServiceLevel.AtLeastOnce), Is.Empty, "do not send on subscribe");
        Assert.That(await SubscribeAsync(MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly, MqttQualityOfServiceLevel.AtLeastOnce), Is.Empty, "the subscription exists already");
        var again = await SubscribeAsync(MqttRetainHandling.SendAtSubscribe, MqttQualityOfServiceLevel.AtMostOnce);
        Assert.That(again, Has.Count.EqualTo(1), "send at subscribe, also when the subscription exists");
        Assert.That(again[0].Retain, Is.True);
        Assert.That(again[0].QualityOfServiceLevel, Is.EqualTo(MqttQualityOfServiceLevel.AtMostOnce), "at the granted QoS");
        Assert.That(again[0].ConvertPayloadToString(), Does.Contain("\"offline\""));

        await client.UnsubscribeAsync(topic);
        Assert.That(await SubscribeAsync(MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly, MqttQualityOfServiceLevel.AtLeastOnce), Has.Count.EqualTo(1), "a new subscription");
    }

    [Test]
    public async Task A_late_ops_subscriber_gets_the_latest_retained_state_only()
    {
        var topic = Topics.OpsDevice(DemoCredentials.Button);
        await using (var live = await OpsClient.ConnectAsync(Gateway, topic))
        {
            for (var i = 0; i < 3; i++)
            {
                await (await Gateway.ConnectButtonAsync()).DisposeAsync();
                await live.NextJsonAsync(topic, p => p.GetProperty("Status").GetString() == "offline" && p.TryGetProperty("Reason", out var r) && r.GetString() == "clean");
            }
        }

        await using var watcher = await OpsClient.ConnectAsync(Gateway, topic);
        var state = await watcher.NextJsonAsync(topic, _ => true);

        Assert.That(state.GetProperty("Status").GetString(), Is.EqualTo("offline"));
        Assert.That(state.GetProperty("Reason").GetString(), Is.EqualTo("clean"), "the last disconnect, not the presence rebuilt at start");
        Assert.That(await watcher.ReceivesNothingAsync(t => t == topic, TimeSpan.FromMilliseconds(400)), Is.True, "one retained message per topic");
    }

    // An ops client that adds every message it receives to `into` (lock it to read).
    private async Task<IMqttClient> ConnectOpsCollectingAsync(string clientId, List<MqttApplicationMessage> into)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            lock (into)
            {
                into.Add(e.ApplicationMessage);
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(TestDevice.Options(Gateway.MqttPort, clientId, TestGateway.OpsUser, TestGateway.OpsPassword));
        return client;
    }
}
