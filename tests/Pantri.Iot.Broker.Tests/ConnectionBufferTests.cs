using Microsoft.Extensions.DependencyInjection;
using MQTTnet.Formatter;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Broker.Transport;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

/// <summary>Each connection's packet writer and MQTT 5 properties buffer start small (memory per idle device) and grow
/// for a larger packet: what a device receives does not depend on that.</summary>
public sealed class ConnectionBufferTests : GatewayTest
{
    [Test]
    public async Task A_device_gets_messages_larger_than_the_initial_and_the_retained_writer_size_intact_and_in_order()
    {
        await using var button = await SubscribedButtonAsync();
        // Sizes around both limits: under the initial buffer, just over it, over the size kept afterwards, and small again
        // after the buffer was cut back.
        int[] sizes = [EmbeddedMqttServer.WriterBufferSize / 2, EmbeddedMqttServer.WriterBufferSize + 1, (EmbeddedMqttServer.WriterBufferSizeMax * 3) + 7, 10];
        var payloads = sizes.Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)((b * 31) + i)).ToArray()).ToList();

        foreach (var payload in payloads)
        {
            await Publisher.PublishAsync(new OutboundMessage(Topic, payload), CancellationToken.None);
        }

        foreach (var payload in payloads)
        {
            var received = await button.NextMessageAsync(m => m.Topic == Topic, TimeSpan.FromSeconds(10));
            Assert.That(received, Is.Not.Null, $"the message of {payload.Length} bytes arrives");
            Assert.That(System.Buffers.BuffersExtensions.ToArray(received!.Payload), Is.EqualTo(payload), $"the message of {payload.Length} bytes arrives intact");
        }
    }

    [Test]
    public void The_MQTT_5_properties_buffer_MQTTnet_gives_each_connection_is_swapped_for_a_small_one()
    {
        // The MQTTnet this broker ships: if an upgrade renames what the swap reaches, this fails instead of memory
        // quietly growing by 1 KB per device.
        var v5 = new MqttPacketFormatterAdapter(MqttProtocolVersion.V500, new MqttBufferWriter(EmbeddedMqttServer.WriterBufferSize, EmbeddedMqttServer.WriterBufferSizeMax));
        Assert.That(V5PropertiesBuffer.SizeOf(v5), Is.EqualTo(1024), "MQTTnet's own size, before");
        Assert.That(V5PropertiesBuffer.Trim(v5), Is.True);
        Assert.That(V5PropertiesBuffer.SizeOf(v5), Is.EqualTo(V5PropertiesBuffer.TrimmedSize));

        var v311 = new MqttPacketFormatterAdapter(MqttProtocolVersion.V311, new MqttBufferWriter(EmbeddedMqttServer.WriterBufferSize, EmbeddedMqttServer.WriterBufferSizeMax));
        Assert.That(V5PropertiesBuffer.Trim(v311), Is.False, "MQTT 3.1.1 has no properties buffer");
    }

    [Test]
    public async Task A_device_gets_correlation_data_larger_than_the_trimmed_properties_buffer_intact()
    {
        await using var button = await SubscribedButtonAsync();
        // Around the trimmed size, well over it (the buffer doubles several times), then small again.
        int[] sizes = [V5PropertiesBuffer.TrimmedSize / 2, V5PropertiesBuffer.TrimmedSize + 1, 1500, 5];
        var correlations = sizes.Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)((b * 17) + i)).ToArray()).ToList();

        for (var i = 0; i < correlations.Count; i++)
        {
            await Publisher.PublishAsync(new OutboundMessage(Topic, new byte[] { (byte)i }, CorrelationData: correlations[i]), CancellationToken.None);
        }

        for (var i = 0; i < correlations.Count; i++)
        {
            var received = await button.NextMessageAsync(m => m.Topic == Topic, TimeSpan.FromSeconds(10));
            Assert.That(received, Is.Not.Null, $"message {i} arrives");
            Assert.That(System.Buffers.BuffersExtensions.ToArray(received!.Payload), Is.EqualTo(new byte[] { (byte)i }));
            Assert.That(received.CorrelationData, Is.EqualTo(correlations[i]), $"its {correlations[i].Length} bytes of correlation data arrive intact");
        }
    }

    private static string Topic => Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders);

    private EmbeddedMqttServer Publisher => Gateway.Services.GetRequiredService<EmbeddedMqttServer>();

    private async Task<TestDevice> SubscribedButtonAsync()
    {
        var button = await Gateway.ConnectButtonAsync();
        Assert.That(await button.SubscribeAsync(Topic), Is.LessThanOrEqualTo(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS2));
        return button;
    }
}
