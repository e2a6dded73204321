using System.Buffers;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.LowLevelClient;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Finding 4: MQTTnet dispatches a QoS 2 PUBLISH when it arrives (dotnet/MQTTnet#1540), so a client that
/// resends it (its PUBREC was lost) had it applied twice. The broker honours exactly-once: a PUBLISH whose packet id is
/// still awaiting PUBREL is answered again but not handed to the gateway a second time.</summary>
public sealed class QoS2Tests : GatewayTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [TestCase(MqttProtocolVersion.V311)]
    [TestCase(MqttProtocolVersion.V500)]
    public async Task A_resent_qos2_publish_is_applied_once_until_pubrel(MqttProtocolVersion version)
    {
        using var jar = new MqttClientFactory().CreateLowLevelMqttClient();
        await jar.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Gateway.MqttPort).WithProtocolVersion(version).Build());
        await jar.SendAsync(new MqttConnectPacket
        {
            ClientId = DemoCredentials.Jar,
            Username = DemoCredentials.Jar,
            Password = Encoding.UTF8.GetBytes(Gateway.Demo.JarKey),
            CleanSession = true,
            KeepAlivePeriod = 60,
        });
        Assert.That(await jar.ReceiveAsync(), Is.InstanceOf<MqttConnAckPacket>());
        await jar.SendAsync(new MqttSubscribePacket
        {
            PacketIdentifier = 1,
            TopicFilters = [new MqttTopicFilter { Topic = Topics.Device(DemoCredentials.Jar, DeviceTopicKind.Ack), QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce }],
        });
        Assert.That(await jar.ReceiveAsync(), Is.InstanceOf<MqttSubAckPacket>());
        var acks = new List<Acknowledgement>();

        // One cookie used (no RequestId, so only the broker can tell the resend from a second report), sent twice
        // under packet id 7 as a client does when the PUBREC is lost; then released.
        await jar.SendAsync(Usage(packetId: 7, dup: false));
        Assert.That(await ReceiveUntilAsync<MqttPubRecPacket>(jar, acks), Has.Property(nameof(MqttPubRecPacket.PacketIdentifier)).EqualTo(7));
        await jar.SendAsync(Usage(packetId: 7, dup: true));
        var second = await ReceiveUntilAsync<MqttPubRecPacket>(jar, acks);
        await jar.SendAsync(new MqttPubRelPacket { PacketIdentifier = 7 });
        await ReceiveUntilAsync<MqttPubCompPacket>(jar, acks);

        // After PUBREL the packet id is free again: the next publish under it is a new message.
        await jar.SendAsync(Usage(packetId: 7, dup: false));
        await ReceiveUntilAsync<MqttPubRecPacket>(jar, acks);
        await jar.SendAsync(new MqttPubRelPacket { PacketIdentifier = 7 });
        await ReceiveUntilAsync<MqttPubCompPacket>(jar, acks);
        while (acks.Count < 3 && await ReceiveOneAsync(jar, acks, TimeSpan.FromMilliseconds(500)))
        {
        }

        Assert.Multiple(() =>
        {
            Assert.That(second.PacketIdentifier, Is.EqualTo(7));
            Assert.That(second.ReasonCode, Is.EqualTo(MqttPubRecReasonCode.Success), "the resend is answered like the original");
            Assert.That(acks.Select(a => a.Level).ToList(), Is.EqualTo(new double?[] { 11, 10 }), "one ack per message, the resend applied nothing");
        });
    }

    private static MqttPublishPacket Usage(ushort packetId, bool dup) => new()
    {
        Topic = Topics.Device(DemoCredentials.Jar, DeviceTopicKind.Usage),
        Payload = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("""{"Instruction_Ref":987654321,"Used":1}""")),
        QualityOfServiceLevel = MqttQualityOfServiceLevel.ExactlyOnce,
        PacketIdentifier = packetId,
        Dup = dup,
    };

    /// <summary>Receives until a <typeparamref name="T"/> arrives, collecting (and PUBACKing) the acks on the way.</summary>
    private static async Task<T> ReceiveUntilAsync<T>(ILowLevelMqttClient client, List<Acknowledgement> acks)
        where T : MqttPacket
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var packet = await client.ReceiveAsync(timeout.Token);
            if (packet is T wanted)
            {
                return wanted;
            }

            await CollectAsync(client, packet, acks);
        }
    }

    private static async Task<bool> ReceiveOneAsync(ILowLevelMqttClient client, List<Acknowledgement> acks, TimeSpan quiet)
    {
        using var timeout = new CancellationTokenSource(quiet);
        try
        {
            await CollectAsync(client, await client.ReceiveAsync(timeout.Token), acks);
            return true;
        }
        catch (Exception ex) when (timeout.IsCancellationRequested && ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            return false; // quiet: nothing more came (the low-level client closes its channel when a receive is cancelled)
        }
    }

    private static async Task CollectAsync(ILowLevelMqttClient client, MqttPacket packet, List<Acknowledgement> acks)
    {
        if (packet is MqttPublishPacket publish)
        {
            acks.Add(ContractJson.DeserializeAcknowledgement(publish.Payload.ToArray())!);
            if (publish.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtLeastOnce)
            {
                await client.SendAsync(new MqttPubAckPacket { PacketIdentifier = publish.PacketIdentifier });
            }
        }
    }
}
