using System.Buffers;
using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>Takes the devices' requests from the external broker: one shared subscription per request topic
/// (<c>$share/{group}/pantri/v1/devices/+/trigger</c>, <c>…/level</c>, <c>…/usage</c>), so the broker hands each
/// request to one gateway instance. The device is the one named in the topic: the broker's ACL lets a device publish
/// only to its own topics, so <b>the broker is the trust boundary</b> in this mode — its per-device rules (the shipped
/// mosquitto.conf and the roles this gateway creates) are what makes the topic's DeviceId an authenticated identity.
/// The gateway's PUBACK to the broker is sent once the request is committed and its ack published; the device got its
/// PUBACK from the broker earlier, so for the device the business ack is the proof of storage. Started last, after the
/// ops state is published, like the embedded broker.</summary>
public sealed partial class ExternalBrokerIntake(
    ExternalBrokerConnection connection,
    IServiceProvider services,
    IOptions<ExternalBrokerOptions> options,
    ILogger<ExternalBrokerIntake> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private IDeviceMessageHandler? _handler;
    private int _inFlight;

    /// <summary>Requests taken from the broker and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not injected: the handler publishes through the connection, which this depends on.
        _handler = services.GetRequiredService<IDeviceMessageHandler>();
        foreach (var kind in (DeviceTopicKind[])[DeviceTopicKind.Trigger, DeviceTopicKind.Level, DeviceTopicKind.Usage])
        {
            var filter = new MqttTopicFilterBuilder()
                .WithTopic($"$share/{options.Value.ShareGroup}/{Topics.DevicesPrefix}+/{Topics.Name(kind)}")
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                // Keeps the retain flag visible, so a retained request can be refused as the embedded broker does.
                .WithRetainAsPublished(true)
                .Build();
            await connection.SubscribeAsync(filter, OnRequestAsync, cancellationToken).ConfigureAwait(false);
        }

        LogListening(logger, options.Value.ShareGroup);
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => _stopping.Dispose();

    private Task OnRequestAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        // The client reads the next message only after this returns: process in the background, PUBACK after.
        e.AutoAcknowledge = false;
        var message = e.ApplicationMessage;
        if (!Topics.TryParseDeviceTopic(message.Topic, out var deviceId, out var kind) || !Topics.IsRequest(kind))
        {
            LogUnexpectedTopic(logger, message.Topic);
            return e.AcknowledgeAsync(_stopping.Token);
        }

        if (message.Retain && message.Payload.IsEmpty)
        {
            // An empty retained publish clears a retained message (ours, after refusing a retained request): no request.
            return e.AcknowledgeAsync(_stopping.Token);
        }

        var request = new DeviceMessage(
            deviceId,
            kind,
            message.Payload.ToArray(),
            message.ResponseTopic,
            message.CorrelationData ?? ReadOnlyMemory<byte>.Empty,
            message.Retain ? "retained publishes are not accepted on device topics" : null);
        _ = ProcessAsync(e, request, message.Retain);
        return Task.CompletedTask;
    }

    private async Task ProcessAsync(MqttApplicationMessageReceivedEventArgs e, DeviceMessage request, bool retained)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await _handler!.HandleAsync(request, _stopping.Token).ConfigureAwait(false);
            if (retained)
            {
                // Mosquitto stored it: clear it, so no later subscriber is handed a request.
                await connection.PublishAsync(new OutboundMessage(e.ApplicationMessage.Topic, ReadOnlyMemory<byte>.Empty, Retain: true), _stopping.Token).ConfigureAwait(false);
            }

            await e.AcknowledgeAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: no PUBACK, no ack; the device resends with the same RequestId.
        }
#pragma warning disable CA1031 // One failed request must not stop the intake; the device resends it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRequestFailed(logger, ex, request.DeviceId, Encoding.UTF8.GetString(request.Payload.Span[..Math.Min(64, request.Payload.Length)]));
            // Frees the broker's in-flight slot; the device, without an ack, resends under the same RequestId.
            await AcknowledgeQuietlyAsync(e).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task AcknowledgeQuietlyAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            await e.AcknowledgeAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
        {
            // The connection is gone: the broker frees the slot with it.
        }
    }

    [LoggerMessage(EventId = 5410, Level = LogLevel.Information, Message = "Taking device requests from the external broker in shared subscription group {Group}")]
    private static partial void LogListening(ILogger logger, string group);

    [LoggerMessage(EventId = 5411, Level = LogLevel.Warning, Message = "Ignored a message on {Topic}: not a device request topic")]
    private static partial void LogUnexpectedTopic(ILogger logger, string topic);

    [LoggerMessage(EventId = 5412, Level = LogLevel.Warning, Message = "A request from {DeviceId} was not answered ({Payload}); the device will resend it")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string deviceId, string payload);
}
