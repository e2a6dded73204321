using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

public sealed class TopicIsolationTests : SharedGatewayTest
{
    [TestCase("pantri/v1/devices/demo-jar/#")]
    [TestCase("pantri/v1/devices/demo-jar/ack")]
    [TestCase("pantri/v1/devices/+/ack")]
    [TestCase("pantri/v1/devices/#")]
    [TestCase("#")]
    [TestCase("+/#")]
    [TestCase("$share/g/pantri/v1/devices/demo-button/ack")]
    [TestCase("$share/g/pantri/v1/devices/+/ack")]
    [TestCase("$SYS/#")]
    [TestCase("pantri/v1/ops/#")]
    [TestCase("pantri/v1/devices/demo-button")]
    [TestCase("pantri/v1/devices/demo-button/a#")]
    public async Task A_device_cannot_subscribe_outside_its_namespace(string filter)
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey);

        // MQTTnet itself answers $share filters with 0x9E before our authorisation runs; both are refusals.
        var expected = filter.StartsWith("$share/", StringComparison.Ordinal)
            ? MqttClientSubscribeResultCode.SharedSubscriptionsNotSupported
            : MqttClientSubscribeResultCode.NotAuthorized;
        Assert.That(await button.SubscribeAsync(filter), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_refused_subscription_answers_0x80_to_an_mqtt311_client()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey, MqttProtocolVersion.V311);
        Assert.That(await button.SubscribeAsync("pantri/v1/devices/demo-jar/ack"), Is.EqualTo(MqttClientSubscribeResultCode.UnspecifiedError));
    }

    [TestCase("pantri/v1/devices/demo-button/#")]
    [TestCase("pantri/v1/devices/demo-button/+")]
    [TestCase("pantri/v1/devices/demo-button/orders")]
    public async Task A_device_may_subscribe_inside_its_namespace(string filter)
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey);
        Assert.That(await button.SubscribeAsync(filter), Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
    }

    [TestCase("pantri/v1/devices/demo-jar/trigger")]
    [TestCase("pantri/v1/devices/demo-jar/level")]
    [TestCase("pantri/v1/devices/demo-button/ack")]
    [TestCase("pantri/v1/devices/demo-button/orders")]
    [TestCase("pantri/v1/ops/events")]
    [TestCase("something/else")]
    public async Task A_device_cannot_publish_outside_its_request_topics(string topic)
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey);
        await using var jar = await Gateway.ConnectAsync(DemoCredentials.Jar, Gateway.Demo.JarKey);
        await jar.SubscribeAsync("pantri/v1/devices/demo-jar/#");

        var result = await button.PublishRawAsync(topic, """{"Instruction_Ref":987654321,"Level":1}""");

        Assert.That(result.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(await jar.ReceivesNothingAsync(_ => true, TimeSpan.FromMilliseconds(500)), Is.True, "the jar must see nothing the button sent");
        Assert.That(Gateway.Store.FindOrders("demo", 10).Where(o => o.InstructionRef == DemoCredentials.JarRef), Is.Empty);
    }

    [Test]
    public async Task A_retained_trigger_is_refused_and_never_stored()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey);

        var result = await button.PublishAsync(DeviceTopicKind.Trigger, "123456789", retain: true);
        var ack = await button.NextAckAsync();

        Assert.That(result.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(ack.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(ack.Status, Does.Contain("retained"));
        Assert.That(ack.OrderRef, Is.Null);
        await button.DisposeAsync();
        await using var late = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey, subscribeAck: false);
        await late.SubscribeAsync("pantri/v1/devices/demo-button/#");
        Assert.That(await late.ReceivesNothingAsync(_ => true, TimeSpan.FromMilliseconds(500)), Is.True, "no retained trigger may be kept");
    }

    [Test]
    public async Task A_packet_larger_than_the_limit_closes_the_connection()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey);
        var huge = new string('x', 64 * 1024);

        Assert.That(async () => await button.PublishAsync(DeviceTopicKind.Trigger, huge), Throws.Exception);
        await Task.Delay(200);
        Assert.That(button.Client.IsConnected, Is.False);
    }

    [Test]
    public async Task The_ops_credential_reads_ops_topics_and_publishes_nothing()
    {
        using var ops = new MqttClientFactory().CreateMqttClient();
        await ops.ConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-dashboard-1", TestGateway.OpsUser, TestGateway.OpsPassword));
        var subscribe = await ops.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.OpsAll, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var device = await ops.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("pantri/v1/devices/#").Build());
        var publish = await ops.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("pantri/v1/devices/demo-button/trigger").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.That(subscribe.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
        Assert.That(device.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.NotAuthorized));
        Assert.That(publish.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
    }
}
