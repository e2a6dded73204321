using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.LoadTest.Load;
using Pantri.Iot.LoadTest.Targets;
using Pantri.Iot.LoadTest;

namespace Pantri.Iot.Gateway.Tests;

/// <summary>The benchmark harness in miniature: real MQTT devices against an in-process gateway. It checks that the
/// harness and the pipeline agree on the contract (every request acked, every ack stored), never how fast.</summary>
[TestFixture]
[Category("Integration")]
[CancelAfter(60_000)]
public sealed class LoadTestSmokeTests
{
    private const int Devices = 20;
    private const int PressesPerDevice = 3;
    private const int LevelReportsPerDevice = 3;

    private string _dataDirectory = null!;

    [SetUp]
    public void CreateDataDirectory() =>
        _dataDirectory = Path.Combine(Path.GetTempPath(), "pantri-smoke-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteDataDirectory()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Test]
    public async Task Every_press_and_level_report_from_simulated_devices_is_acked_and_stored(CancellationToken cancellationToken)
    {
        await using var gateway = await InProcessGateway.StartAsync(_dataDirectory, 0, cancellationToken);
        var credentials = await gateway.ProvisionAsync(Devices, "smoke", cancellationToken);
        var tracker = new AckTracker();
        await using var fleet = await DeviceFleet.ConnectAsync(credentials, "127.0.0.1", gateway.Port, tracker, Devices, cancellationToken);

        var sends = fleet.Devices.SelectMany((device, d) => Enumerable.Range(0, PressesPerDevice + LevelReportsPerDevice).Select(i =>
            device.SendAsync(i < PressesPerDevice ? RequestKind.Trigger : RequestKind.Level, string.Create(CultureInfo.InvariantCulture, $"smoke-{d}-{i}"), Stopwatch.GetTimestamp(), cancellationToken)));
        var published = await Task.WhenAll(sends);
        await tracker.DrainAsync(TimeSpan.FromSeconds(20), cancellationToken);

        const int expected = Devices * (PressesPerDevice + LevelReportsPerDevice);
        Assert.Multiple(() =>
        {
            Assert.That(published, Has.All.True, "every PUBLISH got a successful PUBACK");
            Assert.That(tracker.Sent, Is.EqualTo(expected));
            Assert.That(tracker.Acked, Is.EqualTo(expected), "every request got its ack");
            Assert.That(tracker.Unmatched, Is.Zero, "no ack without a request");
            Assert.That(tracker.CommandRefs.Distinct().Count(), Is.EqualTo(expected), "one command per request");
            Assert.That(tracker.CommandRefs.Where(r => gateway.Store.FindCommandByRef(r) is null), Is.Empty, "every acked command is stored");
            Assert.That(tracker.Ids.Keys, Is.SubsetOf(new[] { 200, 201, 409 }), "presses order or hit the open order; reports are recorded");
        });
        var (orders, duplicates, reordered) = gateway.CountOrders();
        Assert.That((orders, duplicates, reordered), Is.EqualTo((Devices, 0, 0)), "one order per instruction, from its first press");
    }

    [Test]
    public async Task Acks_reach_only_a_subscribed_device_at_its_granted_qos_and_response_topics_still_work(CancellationToken cancellationToken)
    {
        await using var gateway = await InProcessGateway.StartAsync(_dataDirectory, 0, cancellationToken);
        var device = (await gateway.ProvisionAsync(1, "direct", cancellationToken))[0];
        var received = new BlockingCollection<MqttApplicationMessage>();
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Add(e.ApplicationMessage, cancellationToken);
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", gateway.Port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(device.DeviceId).WithCredentials(device.DeviceId, device.Key).Build(), cancellationToken);

        // Not subscribed yet: this request is processed, but its ack must not be delivered.
        await client.PublishAsync(Request(device, "unsubscribed", responseTopic: null), cancellationToken);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Topics.DeviceNamespace(device.DeviceId) + "#", MqttQualityOfServiceLevel.AtMostOnce).Build(), cancellationToken);
        var responseTopic = Topics.DeviceNamespace(device.DeviceId) + "replies/1";
        await client.PublishAsync(Request(device, "subscribed", responseTopic), cancellationToken);

        await client.PublishAsync(Request(device, "plain", responseTopic: null), cancellationToken);

        // The order the first request placed is announced on …/orders after its commit, possibly after SUBSCRIBE.
        var acks = received.GetConsumingEnumerable(cancellationToken).Where(m => m.Topic != Topics.Device(device.DeviceId, DeviceTopicKind.Orders)).Take(2).ToList();
        var (replied, acked) = (acks[0], acks[1]);
        Assert.Multiple(() =>
        {
            Assert.That(replied.Topic, Is.EqualTo(responseTopic), "a request with an own response topic is answered there");
            Assert.That(RequestIdOf(replied), Is.EqualTo("subscribed"), "the ack of the request sent before SUBSCRIBE never arrives");
            Assert.That(replied.CorrelationData, Is.EqualTo("corr"u8.ToArray()));
            Assert.That(acked.Topic, Is.EqualTo(Topics.Device(device.DeviceId, DeviceTopicKind.Ack)), "exactly one ack per command: nothing else arrived on …/ack in between");
            Assert.That(RequestIdOf(acked), Is.EqualTo("plain"));
            Assert.That(new[] { replied, acked }.Select(m => m.QualityOfServiceLevel), Has.All.EqualTo(MqttQualityOfServiceLevel.AtMostOnce), "granted QoS 0 caps delivery");
        });
    }

    private static MqttApplicationMessage Request(DeviceCredential device, string requestId, string? responseTopic) => new()
    {
        Topic = Topics.Device(device.DeviceId, DeviceTopicKind.Trigger),
        Payload = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"Instruction_Ref\":{device.InstructionRef},\"RequestId\":\"{requestId}\"}}"))),
        QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        ResponseTopic = responseTopic!,
        CorrelationData = responseTopic is null ? null! : "corr"u8.ToArray(),
    };

    private static string? RequestIdOf(MqttApplicationMessage message) =>
        ContractJson.DeserializeAcknowledgement(message.Payload.ToArray())?.RequestId;
}
