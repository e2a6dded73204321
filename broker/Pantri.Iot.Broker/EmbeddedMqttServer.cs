using System.Buffers;
using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Pantri.Iot.Broker.Transport;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker;

/// <summary>Owns the MQTTnet server and publishes the gateway's messages into it. Started by
/// <see cref="BrokerHostedService"/>, which also wires its authentication and authorisation.</summary>
/// <remarks>A message to a device topic goes straight into that device's session instead of through
/// <c>InjectApplicationMessage</c>, which matches every message against every subscribed session
/// (dotnet/MQTTnet#2174): with one ack topic per device that made each ack cost O(connected devices). Only the
/// session whose ClientId is the device id can hold a subscription there (the authoriser confines every device to its
/// own namespace and ops to the ops topics), so looking at that one session is the same decision the scan makes.
/// Ops topics and retained messages still take the full path.</remarks>
public sealed class EmbeddedMqttServer : IGatewayPublisher, IDisposable
{
    /// <summary>Sender id of messages the gateway injects; empty, so no device can ever have it.</summary>
    internal const string GatewaySenderId = "";

    private readonly MqttServer _server;

    /// <summary>Creates the server (not started).</summary>
    public EmbeddedMqttServer(IOptions<BrokerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        Adapter = new GuardedTcpServerAdapter(new IPEndPoint(IPAddress.Parse(o.BindAddress), o.Port), o.MaxPacketSize, o.MaxConnections);
        var serverOptions = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(o.MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions, [Adapter]);
        _server.ClientSubscribedTopicAsync += RecordSubscription;
        _server.ClientUnsubscribedTopicAsync += ForgetSubscription;
    }

    /// <summary>The MQTTnet server, for wiring events.</summary>
    public MqttServer Server => _server;

    /// <summary>The TCP listener.</summary>
    public GuardedTcpServerAdapter Adapter { get; }

    /// <summary>The port MQTT listens on.</summary>
    public int Port => Adapter.BoundPort;

    /// <inheritdoc/>
    public async Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_server.IsStarted)
        {
            return;
        }

        var applicationMessage = new MqttApplicationMessage
        {
            Topic = message.Topic,
            Payload = new ReadOnlySequence<byte>(message.Payload),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
            Retain = message.Retain,
            ContentType = "application/json",
            CorrelationData = message.CorrelationData.IsEmpty ? null! : message.CorrelationData.ToArray(),
        };
        if (!message.Retain && TryGetDeviceId(message.Topic, out var deviceId))
        {
            await DeliverToDeviceAsync(deviceId, applicationMessage).ConfigureAwait(false);
            return;
        }

        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(applicationMessage) { SenderClientId = GatewaySenderId }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="message"/> in the device's session when it subscribed to a matching filter,
    /// at the lower of QoS 1 and the granted QoS, as the broker's own routing would.</summary>
    private async Task DeliverToDeviceAsync(string deviceId, MqttApplicationMessage message)
    {
        MqttSessionStatus session;
        try
        {
            session = await _server.GetSessionAsync(deviceId).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // No session: the device is offline and, without persistent sessions, nobody is subscribed.
            return;
        }

        if (session.Items[DeviceSubscriptions.SessionKey] is not DeviceSubscriptions subscriptions || !subscriptions.TryMatch(message.Topic, out var granted))
        {
            return;
        }

        message.QualityOfServiceLevel = granted < MqttQualityOfServiceLevel.AtLeastOnce ? granted : MqttQualityOfServiceLevel.AtLeastOnce;

        // Overflow drops the oldest queued message and raises QueuedApplicationMessageOverwrittenAsync, as routed
        // messages do, so drops are still counted.
        session.TryEnqueueApplicationMessage(message, out _);
    }

    private static Task RecordSubscription(ClientSubscribedTopicEventArgs e)
    {
        if (e.TopicFilter.Topic.StartsWith(Topics.DevicesPrefix, StringComparison.Ordinal))
        {
            // The interceptor only refuses, never downgrades, so the requested QoS is the granted one.
            if (e.SessionItems[DeviceSubscriptions.SessionKey] is not DeviceSubscriptions subscriptions)
            {
                subscriptions = new DeviceSubscriptions();
                e.SessionItems[DeviceSubscriptions.SessionKey] = subscriptions;
            }

            subscriptions.Add(e.TopicFilter.Topic, e.TopicFilter.QualityOfServiceLevel);
        }

        return Task.CompletedTask;
    }

    private static Task ForgetSubscription(ClientUnsubscribedTopicEventArgs e)
    {
        (e.SessionItems[DeviceSubscriptions.SessionKey] as DeviceSubscriptions)?.Remove(e.TopicFilter);
        return Task.CompletedTask;
    }

    /// <summary>The id in <c>pantri/v1/devices/{id}/…</c>.</summary>
    private static bool TryGetDeviceId(string topic, out string deviceId)
    {
        deviceId = string.Empty;
        if (!topic.StartsWith(Topics.DevicesPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var slash = topic.IndexOf('/', Topics.DevicesPrefix.Length);
        if (slash <= Topics.DevicesPrefix.Length)
        {
            return false;
        }

        deviceId = topic[Topics.DevicesPrefix.Length..slash];
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _server.Dispose();
        Adapter.Dispose();
    }
}
