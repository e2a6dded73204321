using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>The ack both baselines answer with: the contract's shape, a fresh CommandRef, the request's RequestId,
/// on the device's ack topic at QoS 1 — what the gateway sends, minus the pipeline and storage.</summary>
internal sealed class EchoAck
{
    private long _nextRef;

    public MqttApplicationMessage For(string deviceId, ReadOnlySequence<byte> request)
    {
        var ack = new Acknowledgement
        {
            CommandRef = Interlocked.Increment(ref _nextRef),
            Id = AckIds.Recorded,
            Status = AckIds.Done,
            RequestId = RequestIdOf(request),
        };
        return new MqttApplicationMessage
        {
            Topic = Topics.Device(deviceId, DeviceTopicKind.Ack),
            Payload = new ReadOnlySequence<byte>(ContractJson.Serialize(ack)),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
            ContentType = "application/json",
        };
    }

    // Parsed as a trigger because a trigger accepts every request shape: Level and Used are ignored, RequestId is not.
    private static string? RequestIdOf(ReadOnlySequence<byte> request)
    {
        DeviceRequestParser.TryParse(DeviceTopicKind.Trigger, request.IsSingleSegment ? request.FirstSpan : request.ToArray(), out var parsed, out var malformed);
        return parsed?.RequestId ?? malformed?.RequestId;
    }
}
