using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>The MQTT entry of the pipeline, whichever broker delivered the message: parse, process, then publish
/// the ack to <c>…/ack</c> and to a MQTT 5 ResponseTopic inside the device's own namespace.</summary>
public sealed class DeviceRequestHandler(CommandService commands, IGatewayPublisher publisher) : IDeviceMessageHandler
{
    /// <inheritdoc/>
    public async Task HandleAsync(DeviceMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var payload = message.Payload.Span;
        DeviceRequestParser.TryParse(message.Kind, payload, out var request, out var malformed);
        var requestId = request?.RequestId ?? malformed?.RequestId;
        var error = message.Refusal ?? malformed?.Reason;
        if (error is not null)
        {
            request = null;
        }

        var correlationKey = message.CorrelationData.IsEmpty ? null : "cd:" + Convert.ToBase64String(message.CorrelationData.Span);
        var input = new CommandInput(message.Kind, message.DeviceId, null, request, error, requestId, correlationKey);
        var ack = await commands.SubmitAsync(input, cancellationToken).ConfigureAwait(false);

        var json = ContractJson.Serialize(ack);
        await publisher.PublishAsync(new OutboundMessage(Topics.Device(message.DeviceId, DeviceTopicKind.Ack), json), cancellationToken).ConfigureAwait(false);
        if (IsOwnResponseTopic(message.DeviceId, message.ResponseTopic))
        {
            await publisher.PublishAsync(new OutboundMessage(message.ResponseTopic!, json, CorrelationData: message.CorrelationData), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A response topic is honoured only inside <c>pantri/v1/devices/{own id}/</c> and without wildcards,
    /// so no device can make the gateway publish into another device's namespace.</summary>
    public static bool IsOwnResponseTopic(string deviceId, string? responseTopic) =>
        responseTopic is not null
        && responseTopic.StartsWith(Topics.DeviceNamespace(deviceId), StringComparison.Ordinal)
        && responseTopic.Length > Topics.DeviceNamespace(deviceId).Length
        && responseTopic.IndexOfAny(['+', '#']) < 0;
}
