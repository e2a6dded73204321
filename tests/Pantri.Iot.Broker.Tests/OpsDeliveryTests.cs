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
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            lock (retained)
            {
                retained.Add(e.ApplicationMessage);
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-late", TestGateway.OpsUser, TestGateway.OpsPassword));
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.OpsDevice(DemoCredentials.Button), MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Task.Delay(500);

        lock (retained)
        {
            Assert.That(retained, Has.Count.EqualTo(1));
            Assert.That(retained[0].Retain, Is.True);
            Assert.That(retained[0].ConvertPayloadToString(), Does.Contain("\"offline\""));
        }
    }
}
