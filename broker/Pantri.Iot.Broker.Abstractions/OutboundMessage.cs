namespace Pantri.Iot.Broker.Abstractions;

/// <summary>A message the gateway publishes: an ack or order update to one device, or an ops message.</summary>
/// <param name="Topic">Full topic.</param>
/// <param name="Payload">UTF-8 JSON.</param>
/// <param name="Retain">Retained (ops status topics only).</param>
/// <param name="CorrelationData">MQTT 5 CorrelationData echoed on a response topic.</param>
public sealed record OutboundMessage(string Topic, ReadOnlyMemory<byte> Payload, bool Retain = false, ReadOnlyMemory<byte> CorrelationData = default);
