using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Polly;
using Polly.Retry;

namespace Pantri.Iot.Sdk;

/// <summary>The sender: takes the queue's oldest command, sends it until it is acknowledged, then the next. One
/// command in flight at a time keeps the gateway seeing them in the order they were issued.</summary>
public sealed partial class PantriDeviceClient
{
    private static readonly ResiliencePropertyKey<Delivery> DeliveryKey = new("Pantri.Delivery");

    private Delivery? _inFlight;

    private async Task SendLoopAsync(CancellationToken connectionToken)
    {
        var queue = _queue!;
        while (true)
        {
            var command = await queue.WaitForHeadAsync(connectionToken).ConfigureAwait(false);
            var delivery = new Delivery(this, command);
            Volatile.Write(ref _inFlight, delivery);
            var context = ResilienceContextPool.Shared.Get(connectionToken);
            context.Properties.Set(DeliveryKey, delivery);
            Acknowledgement? ack = null;
            PantriCommandRejectedException? rejected = null;
            try
            {
                ack = await _sendPipeline.ExecuteAsync(
                    static (context, delivery) => delivery.Client.SendOnceAsync(delivery, context.CancellationToken), context, delivery).ConfigureAwait(false);
            }
            catch (PantriCommandRejectedException exception)
            {
                rejected = exception;
                Log.Rejected(_logger, command.Kind, command.RequestId, exception.ReasonCode ?? "?");
            }
            finally
            {
                Volatile.Write(ref _inFlight, null);
                ResilienceContextPool.Shared.Return(context);
            }

            queue.Complete(command.Sequence);
            Finish(command, ack, rejected);
        }
    }

    /// <summary>One attempt: publish (QoS 1) and wait up to <see cref="PantriDeviceOptions.ResendInterval"/> for the
    /// ack that names the command's RequestId. An ack of any earlier attempt counts too.</summary>
    private async ValueTask<Acknowledgement> SendOnceAsync(Delivery delivery, CancellationToken connectionToken)
    {
        var command = delivery.Command;
        if (delivery.Waiter.Task.IsCompleted)
        {
            // The previous attempt's ack (429 or 503) was consumed by the retry: wait for a fresh one.
            delivery.Waiter = new TaskCompletionSource<Acknowledgement>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // A PUBACK that does not come within the connect timeout means the connection is not working: reconnect.
        using (var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(connectionToken, timeout.Token))
        {
            MqttClientPublishResult result;
            try
            {
                result = await _mqtt.PublishAsync(BuildMessage(command), linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException exception) when (timeout.IsCancellationRequested && !connectionToken.IsCancellationRequested)
            {
                throw new PantriConnectionException($"no PUBACK within {_options.ConnectTimeout}", exception);
            }

            delivery.Attempts++;
            Log.Sent(_logger, command.Kind, command.RequestId, delivery.Attempts);
            if (!result.IsSuccess)
            {
                throw new PantriCommandRejectedException(
                    $"The broker refused {Topics.Name(command.Kind)} {command.RequestId} ({result.ReasonCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : ": " + result.ReasonString)}).")
                { Command = command, ReasonCode = result.ReasonCode.ToString() };
            }
        }

        try
        {
            return await delivery.Waiter.Task.WaitAsync(_options.ResendInterval, _time, connectionToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            throw new NoAckException($"no ack within {_options.ResendInterval}", exception);
        }
    }

    private MqttApplicationMessage BuildMessage(PantriCommand command)
    {
        var payload = command.Kind switch
        {
            DeviceTopicKind.Level => RequestPayloads.Level(command.InstructionRef!.Value, command.Value ?? 0, command.RequestId),
            DeviceTopicKind.Usage => RequestPayloads.Usage(command.InstructionRef!.Value, command.Value ?? 1, command.RequestId),
            _ => RequestPayloads.Trigger(command.InstructionRef, command.RequestId),
        };
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Device(DeviceId, command.Kind))
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.ProtocolVersion == PantriProtocolVersion.Mqtt5)
        {
            // The ack comes back on our own response topic instead of …/ack, with this correlation data echoed.
            builder.WithResponseTopic(_responseTopic).WithCorrelationData(Encoding.UTF8.GetBytes(command.RequestId));
        }

        return builder.Build();
    }

    private ResiliencePipeline<Acknowledgement> BuildSendPipeline() => new ResiliencePipelineBuilder<Acknowledgement> { TimeProvider = _time }
        .AddRetry(new RetryStrategyOptions<Acknowledgement>
        {
            // 429: the gateway did not record it (too fast); 503: nothing recorded (storage). Both are safe to resend,
            // and so is a command whose ack did not come: the same RequestId replays the first ack.
            ShouldHandle = new PredicateBuilder<Acknowledgement>()
                .HandleResult(ack => ack.Id is AckIds.TooFast or AckIds.Unavailable)
                .Handle<NoAckException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryDelay,
            MaxDelay = _options.MaxRetryDelay,
            MaxRetryAttempts = int.MaxValue,
            OnRetry = args =>
            {
                if (args.Context.Properties.TryGetValue(DeliveryKey, out var delivery))
                {
                    var outcome = args.Outcome.Result is { } ack
                        ? ack.Id.ToString(CultureInfo.InvariantCulture) + " " + ack.Status
                        : args.Outcome.Exception?.Message ?? "failed";
                    Log.Resending(_logger, delivery.Command.Kind, delivery.Command.RequestId, outcome, args.RetryDelay);
                }

                return default;
            },
        })
        .Build();

    private void Finish(PantriCommand command, Acknowledgement? ack, PantriCommandRejectedException? rejected)
    {
        if (ack is not null)
        {
            Log.Acknowledged(_logger, command.Kind, command.RequestId, ack.Id, ack.Status, ack.CommandRef, ack.Replayed == true ? ", replayed" : "");
        }

        if (_callers.TryGetValue(command.Sequence, out var caller))
        {
            if (ack is not null)
            {
                caller.TrySetResult(ack);
            }
            else
            {
                caller.TrySetException(rejected!);
            }
        }

        Raise(CommandCompleted, new PantriCommandCompletedEventArgs(command, ack, rejected), nameof(CommandCompleted));
    }

    private Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        var topic = message.Topic;
        try
        {
            var payload = message.Payload;
            ReadOnlySpan<byte> json = payload.IsSingleSegment ? payload.FirstSpan : BuffersExtensions.ToArray(payload);
            if (string.Equals(topic, _ordersTopic, StringComparison.Ordinal))
            {
                if (JsonSerializer.Deserialize(json, ContractJson.Default.OrderStatus) is { } status)
                {
                    foreach (var watcher in _orderWatchers.Keys)
                    {
                        watcher.Writer.TryWrite(status);
                    }

                    Raise(OrderStatusChanged, new PantriOrderStatusEventArgs(status), nameof(OrderStatusChanged));
                }
            }
            else if (string.Equals(topic, _ackTopic, StringComparison.Ordinal) || string.Equals(topic, _responseTopic, StringComparison.Ordinal))
            {
                if (ContractJson.DeserializeAcknowledgement(json) is not { } ack)
                {
                    Log.UnreadableMessage(_logger, topic, null);
                    return Task.CompletedTask;
                }

                var requestId = ack.RequestId ?? (message.CorrelationData is { Length: > 0 } correlation ? Encoding.UTF8.GetString(correlation) : null);
                var delivery = Volatile.Read(ref _inFlight);
                if (delivery is not null && string.Equals(requestId, delivery.Command.RequestId, StringComparison.Ordinal))
                {
                    delivery.Waiter.TrySetResult(ack);
                }
                else
                {
                    Log.StrayAck(_logger, ack.Id, requestId);
                }
            }
        }
        catch (JsonException exception)
        {
            Log.UnreadableMessage(_logger, topic, exception);
        }

        return Task.CompletedTask;
    }

    /// <summary>The command being sent, its attempts, and the ack the message handler hands over.</summary>
    private sealed class Delivery(PantriDeviceClient client, PantriCommand command)
    {
        public PantriDeviceClient Client { get; } = client;

        public PantriCommand Command { get; } = command;

        public int Attempts { get; set; }

        public TaskCompletionSource<Acknowledgement> Waiter { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A sent command got no ack within the resend interval; the retry sends it again.</summary>
internal sealed class NoAckException : Exception
{
    public NoAckException()
    {
    }

    public NoAckException(string message)
        : base(message)
    {
    }

    public NoAckException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
