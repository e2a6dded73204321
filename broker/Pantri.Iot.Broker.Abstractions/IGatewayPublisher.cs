namespace Pantri.Iot.Broker.Abstractions;

/// <summary>Publishes the gateway's messages through whichever broker the gateway uses (QoS 1).</summary>
public interface IGatewayPublisher
{
    /// <summary>Publishes one message.</summary>
    Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken);
}
