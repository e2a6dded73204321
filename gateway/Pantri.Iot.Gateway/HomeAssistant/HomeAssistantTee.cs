using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>Sits in front of the broker's publisher while the bridge is on and hands the retained inventory and order
/// states to <see cref="HomeAssistantBridge"/> (a prefix check and a non-blocking queue write; acks pass straight
/// through).</summary>
internal sealed class HomeAssistantTee(IGatewayPublisher broker, HomeAssistantBridge bridge) : IGatewayPublisher
{
    internal static readonly string InventoryPrefix = Topics.OpsPrefix + "inventory/";
    internal static readonly string OrdersPrefix = Topics.OpsPrefix + "orders/";

    /// <inheritdoc/>
    public Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Retain && !message.Payload.IsEmpty
            && (message.Topic.StartsWith(InventoryPrefix, StringComparison.Ordinal) || message.Topic.StartsWith(OrdersPrefix, StringComparison.Ordinal)))
        {
            bridge.Offer(message);
        }

        return broker.PublishAsync(message, cancellationToken);
    }
}
