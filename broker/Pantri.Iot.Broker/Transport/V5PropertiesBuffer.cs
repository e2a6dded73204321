using System.Runtime.CompilerServices;
using MQTTnet.Formatter;
using MQTTnet.Formatter.V5;

namespace Pantri.Iot.Broker.Transport;

/// <summary>MQTTnet 5.2 gives every MQTT 5 connection a 1 KB buffer for encoding the properties of the packets it sends
/// (<c>MqttV5PacketEncoder</c>), allocated when the CONNECT is read and kept for the connection's life: a tenth of the
/// memory an idle device costs the broker. The properties of what the broker sends (a correlation id, a reason) take tens
/// of bytes, and the buffer grows by doubling when a packet needs more, so it is swapped for a small one once the
/// connection's protocol version is known. MQTTnet offers no setting for it; its private fields are reached through
/// <see cref="UnsafeAccessorAttribute"/>, and if a later MQTTnet renames them the connection keeps its 1 KB buffer
/// (<see cref="Trim"/> returns false, and the broker's tests fail on it).</summary>
internal static class V5PropertiesBuffer
{
    /// <summary>The size the buffer starts at after the swap.</summary>
    internal const int TrimmedSize = 64;

    /// <summary>Swaps the properties buffer of an MQTT 5 connection's encoder for a <see cref="TrimmedSize"/>-byte one
    /// while it holds nothing (between reading the CONNECT and sending the CONNACK). False when the connection is not
    /// MQTT 5 or MQTTnet's internals are not as expected.</summary>
    public static bool Trim(MqttPacketFormatterAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        try
        {
            if (WriterOf(adapter) is not { } writer || writer.Length != 0)
            {
                return false;
            }

            Buffer(writer) = new byte[TrimmedSize];
            return true;
        }
        catch (MissingMemberException)
        {
            return false;
        }
    }

    /// <summary>The current size of the connection's properties buffer, or null when it has none (tests).</summary>
    internal static int? SizeOf(MqttPacketFormatterAdapter adapter) => WriterOf(adapter) is { } writer ? Buffer(writer).Length : null;

    private static MqttBufferWriter? WriterOf(MqttPacketFormatterAdapter adapter) =>
        Formatter(adapter) is MqttV5PacketFormatter formatter ? BufferWriter(PropertiesWriter(Encoder(formatter))) : null;

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_formatter")]
    private static extern ref IMqttPacketFormatter Formatter(MqttPacketFormatterAdapter adapter);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_encoder")]
    private static extern ref MqttV5PacketEncoder Encoder(MqttV5PacketFormatter formatter);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_propertiesWriter")]
    private static extern ref MqttV5PropertiesWriter PropertiesWriter(MqttV5PacketEncoder encoder);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_bufferWriter")]
    private static extern ref MqttBufferWriter BufferWriter(MqttV5PropertiesWriter writer);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_buffer")]
    private static extern ref byte[] Buffer(MqttBufferWriter writer);
}
