using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

/// <summary>Each connection's packet writer starts small (memory per idle device) and grows for a larger packet: what a
/// device receives does not depend on that.</summary>
public sealed class ConnectionBufferTests : GatewayTest
{
    [Test]
    public async Task A_device_gets_messages_larger_than_the_initial_and_the_retained_writer_size_intact_and_in_order()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        var publisher = Gateway.Services.GetRequiredService<EmbeddedMqttServer>();
        var topic = Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders);
        Assert.That(await button.SubscribeAsync(topic), Is.LessThanOrEqualTo(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS2));
        // Sizes around both limits: under the initial buffer, just over it, over the size kept afterwards, and small again
        // after the buffer was cut back.
        int[] sizes = [EmbeddedMqttServer.WriterBufferSize / 2, EmbeddedMqttServer.WriterBufferSize + 1, (EmbeddedMqttServer.WriterBufferSizeMax * 3) + 7, 10];
        var payloads = sizes.Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)((b * 31) + i)).ToArray()).ToList();

        foreach (var payload in payloads)
        {
            await publisher.PublishAsync(new OutboundMessage(topic, payload), CancellationToken.None);
        }

        foreach (var payload in payloads)
        {
            var received = await button.NextMessageAsync(m => m.Topic == topic, TimeSpan.FromSeconds(10));
            Assert.That(received, Is.Not.Null, $"the message of {payload.Length} bytes arrives");
            Assert.That(System.Buffers.BuffersExtensions.ToArray(received!.Payload), Is.EqualTo(payload), $"the message of {payload.Length} bytes arrives intact");
        }
    }
}
