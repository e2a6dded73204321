using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Finding 3: one device could create unbounded subscriptions inside its own namespace (40,000 took 437 MB,
/// never returned). A session holds at most <c>Pantri:Mqtt:MaxSubscriptionsPerClient</c> (32) filters, and topics and
/// filters are at most <c>MaxTopicLength</c> (256) characters.</summary>
public sealed class SubscriptionLimitTests : SharedGatewayTest
{
    private const int Cap = 32;
    [TestCase(MqttProtocolVersion.V500, MqttClientSubscribeResultCode.QuotaExceeded)]
    [TestCase(MqttProtocolVersion.V311, MqttClientSubscribeResultCode.UnspecifiedError)]
    public async Task A_device_gets_at_most_the_cap_of_subscriptions_however_many_it_asks_for(MqttProtocolVersion version, MqttClientSubscribeResultCode refusal)
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey, version, subscribeAck: false);

        // 2,000 filters, 100 per SUBSCRIBE packet: the attack of the probe, scaled down.
        var codes = new List<MqttClientSubscribeResultCode>();
        for (var packet = 0; packet < 20; packet++)
        {
            var options = new MqttClientSubscribeOptionsBuilder();
            for (var i = 0; i < 100; i++)
            {
                options.WithTopicFilter($"{Topics.DeviceNamespace(DemoCredentials.Button)}x/{packet}/{i}", MqttQualityOfServiceLevel.AtLeastOnce);
            }

            var result = await button.Client.SubscribeAsync(options.Build());
            codes.AddRange(result.Items.Select(item => item.ResultCode));
        }

        Assert.That(codes.Count(c => c == MqttClientSubscribeResultCode.GrantedQoS1), Is.EqualTo(Cap));
        Assert.That(codes.Count(c => c == refusal), Is.EqualTo(2000 - Cap));
        Assert.That(button.Client.IsConnected, Is.True, "a refused subscription does not cost the connection");
    }

    [Test]
    public async Task At_the_cap_a_repeated_filter_is_still_granted_and_an_unsubscribe_frees_a_place()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey); // holds …/ack
        var root = Topics.DeviceNamespace(DemoCredentials.Button);
        for (var i = 1; i < Cap; i++)
        {
            Assert.That(await button.SubscribeAsync($"{root}f{i}"), Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
        }

        Assert.That(await button.SubscribeAsync($"{root}one-too-many"), Is.EqualTo(MqttClientSubscribeResultCode.QuotaExceeded));
        Assert.That(await button.SubscribeAsync($"{root}f1"), Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1), "re-subscribing replaces, it does not add");

        await button.Client.UnsubscribeAsync($"{root}f1");
        Assert.That(await button.SubscribeAsync($"{root}one-too-many"), Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));

        // The ack subscription still works at the cap.
        Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).Id, Is.EqualTo(AckIds.OrderPlaced).Or.EqualTo(AckIds.Conflict));
    }

    [Test]
    public async Task A_filter_longer_than_the_topic_cap_is_refused_even_inside_the_namespace()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey, subscribeAck: false);
        var root = Topics.DeviceNamespace(DemoCredentials.Button);

        var longest = await button.SubscribeAsync(root + new string('x', 256 - root.Length));
        var tooLong = await button.SubscribeAsync(root + new string('x', 257 - root.Length));

        Assert.That(longest, Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
        Assert.That(tooLong, Is.EqualTo(MqttClientSubscribeResultCode.TopicFilterInvalid));
    }

    [Test]
    public async Task A_publish_to_a_topic_longer_than_the_topic_cap_is_refused_as_invalid()
    {
        await using var button = await Gateway.ConnectAsync(DemoCredentials.Button, Gateway.Demo.ButtonKey, subscribeAck: false);

        var result = await button.PublishRawAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger) + "/" + new string('x', 300), "123456789");

        Assert.That(result.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.TopicNameInvalid));
    }
}
