using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Commands;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Telemetry;

namespace Pantri.Iot.Gateway.Entry.Mqtt;

/// <summary>The MQTT entry of the pipeline, whichever broker delivered the message: parse into a typed request,
/// hand it to the writer, then publish the committed ack — exactly one per command, as the contract promises: to a
/// MQTT 5 ResponseTopic inside the device's own namespace (with the CorrelationData echoed) when the request named
/// one, otherwise to <c>…/ack</c>.</summary>
public sealed class MqttRequestHandler(CommandWriter writer, IGatewayPublisher publisher, GatewayMetrics metrics) : IDeviceMessageHandler
{
    /// <inheritdoc/>
    public async Task HandleAsync(DeviceMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var started = metrics.Start();
        var ack = await writer.SubmitAsync(ToCommand(message), cancellationToken).ConfigureAwait(false);
        var reply = Topics.IsOwnResponseTopic(message.DeviceId, message.ResponseTopic)
            ? new OutboundMessage(message.ResponseTopic!, ack.Json, CorrelationData: message.CorrelationData)
            : new OutboundMessage(Topics.Device(message.DeviceId, DeviceTopicKind.Ack), ack.Json);
        await publisher.PublishAsync(reply, cancellationToken).ConfigureAwait(false);
        metrics.CommandAnswered(message.Kind, ack.Ack.Id, "mqtt", started);
    }

    private static DeviceCommand ToCommand(DeviceMessage message)
    {
        var source = CommandSource.Device(message.DeviceId);
        var correlationKey = message.CorrelationData.IsEmpty ? null : "cd:" + Convert.ToBase64String(message.CorrelationData.Span);
        if (!DeviceRequestParser.TryParse(message.Kind, message.Payload.Span, out var request, out var malformed))
        {
            return DeviceCommand.Malformed(message.Kind, malformed, source, correlationKey);
        }

        // The transport refused it (a retained publish) but the request itself was readable: echo what it named.
        return message.Refusal is { } refusal
            ? DeviceCommand.Malformed(message.Kind, new MalformedRequest(refusal, request.RequestId, request.NamedInstructionRef), source, correlationKey)
            : DeviceCommand.For(request, source, correlationKey);
    }
}
