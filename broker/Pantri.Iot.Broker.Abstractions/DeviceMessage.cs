using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker.Abstractions;

/// <summary>A request a device published on its own trigger, level or usage topic, already authorised.</summary>
/// <param name="DeviceId">The authenticated device.</param>
/// <param name="Kind">trigger, level or usage.</param>
/// <param name="Payload">A copy of the payload.</param>
/// <param name="ResponseTopic">MQTT 5 ResponseTopic, unchecked.</param>
/// <param name="CorrelationData">MQTT 5 CorrelationData.</param>
/// <param name="Refusal">Set when the transport already refused it (a retained publish); the handler still acks.</param>
public sealed record DeviceMessage(
    string DeviceId,
    DeviceTopicKind Kind,
    ReadOnlyMemory<byte> Payload,
    string? ResponseTopic,
    ReadOnlyMemory<byte> CorrelationData,
    string? Refusal = null);
