using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Broker.Transport;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker;

/// <summary>Owns the MQTTnet server and publishes the gateway's messages into it. Started by
/// <see cref="BrokerHostedService"/>, the one place that subscribes to the server's events; it calls
/// <see cref="RecordSubscriptionAsync"/>, <see cref="ForgetSubscription"/> and <see cref="ForgetOpsSession"/> here to keep
/// the subscription bookkeeping this class delivers by.</summary>
/// <remarks>No gateway message goes through <c>InjectApplicationMessage</c>, which matches every message against
/// every subscribed session (dotnet/MQTTnet#2174): with one ack topic per device that made each ack, ops event,
/// inventory and presence message cost O(connected devices). The authoriser confines every device to its own
/// namespace and ops to the ops topics, so a message to <c>pantri/v1/devices/{id}/…</c> can only match session
/// <c>{id}</c>, and a message under <c>pantri/v1/ops/</c> only the ops sessions (<see cref="OpsSessions"/>): looking
/// at those decides what the scan decided. Retained messages are not kept in MQTTnet's store, which MQTTnet copies on
/// every SUBSCRIBE: <see cref="RetainedOpsMessages"/> keeps them (from before the server starts, so the gateway can
/// rebuild ops state first), and an ops SUBSCRIBE is handed the ones it matches here.</remarks>
public sealed class EmbeddedMqttServer : IGatewayPublisher, ISessionTerminator, IDisposable
{
    /// <summary>Sender id of messages the gateway injects; empty, so no device can ever have it.</summary>
    internal const string GatewaySenderId = "";

    private readonly MqttServer _server;
    private readonly OpsSessions _opsSessions = new();
    private readonly TimeProvider _time;
    private readonly RetainedOpsMessages _retained = new();

    // Orders a retained ops update and its delivery against an ops SUBSCRIBE's retained snapshot, so a late subscriber
    // never gets an older state after a newer one.
    private readonly SemaphoreSlim _opsGate = new(1, 1);

    /// <summary>Creates the server (not started). MQTTnet's own log goes to <paramref name="loggerFactory"/> under the
    /// category <c>MQTTnet</c>. The connection cap is lowered here to fit the open-file limit (see
    /// <see cref="BrokerOptions.MaxConnections"/>). With <paramref name="tls"/> (registered by the host when TLS is on)
    /// it also serves MQTT over TLS.</summary>
    public EmbeddedMqttServer(IOptions<BrokerOptions> options, ILoggerFactory loggerFactory, TimeProvider time, IMeterFactory meterFactory, MqttTlsEndpoint? tls = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var o = options.Value;
        _time = time;
        var logger = loggerFactory.CreateLogger<EmbeddedMqttServer>();
        var openFiles = OpenFileLimit.ReadSoftLimit();
        MaxConnections = OpenFileLimit.Clamp(o.MaxConnections, openFiles);
        if (MaxConnections < o.MaxConnections)
        {
            Log.ConnectionCapClamped(logger, o.MaxConnections, MaxConnections, openFiles!.Value, OpenFileLimit.Reserve(openFiles.Value));
        }

        Refusals = new RefusalLog(logger, time, o.RefusalLogLinesPerMinute, TimeSpan.FromMinutes(1));
        var mqttLogger = new MqttNetLoggerBridge(loggerFactory.CreateLogger(MqttNetLoggerBridge.CategoryName));
        var limits = new TransportLimits(
            new IPEndPoint(IPAddress.Parse(o.BindAddress), o.Port),
            o.MaxPacketSize,
            MaxConnections,
            o.MaxConnectionsPerAddress,
            o.ConnectTimeout,
            o.ParsedProxyAddresses(),
            o.PlainTcp);
        Tls = tls;
        Adapter = new GuardedTcpServerAdapter(limits, mqttLogger.PacketTrace, time, Refusals, logger, tls);
        Metrics = new BrokerMetrics(meterFactory, Adapter, () => _retained.Count);
        Refusals.Counted = reason =>
        {
            if (reason == RefusalReasons.QueueOverflow)
            {
                Metrics.Dropped();
            }
            else
            {
                Metrics.Refused(reason);
            }
        };
        var serverOptions = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(o.MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        // Every connection keeps one packet writer for its whole life, so its initial size is memory per idle device:
        // MQTTnet's default (4 KB) was the largest single cost of a connected device. A device's packets (acks, order
        // updates) fit 256 bytes; a larger packet grows that connection's buffer by doubling, and after one above
        // WriterBufferSizeMax it is cut back to that size.
        serverOptions.WriterBufferSize = WriterBufferSize;
        serverOptions.WriterBufferSizeMax = WriterBufferSizeMax;
        _server = new MqttServerFactory(mqttLogger).CreateMqttServer(serverOptions, [Adapter]);
    }

    /// <summary>Initial size of each connection's packet writer (MQTTnet's <c>WriterBufferSize</c>, default 4 KB).</summary>
    internal const int WriterBufferSize = 256;

    /// <summary>Size a connection's packet writer is cut back to after a larger packet (MQTTnet's
    /// <c>WriterBufferSizeMax</c>, default 64 KB).</summary>
    internal const int WriterBufferSizeMax = 4096;

    /// <summary>The connection cap in force: <see cref="BrokerOptions.MaxConnections"/>, lowered to fit the
    /// open-file limit.</summary>
    public int MaxConnections { get; }

    private MqttTlsEndpoint? Tls { get; }

    /// <summary>The broker's instruments.</summary>
    public BrokerMetrics Metrics { get; }

    /// <summary>Where the broker's refusals are counted and their log lines rate-limited.</summary>
    internal RefusalLog Refusals { get; }

    /// <summary>The MQTTnet server, for <see cref="BrokerHostedService"/> to start and wire.</summary>
    internal MqttServer Server => _server;

    /// <summary>The TCP listener.</summary>
    internal GuardedTcpServerAdapter Adapter { get; }

    /// <summary>The port MQTT listens on (0 when plain TCP is off).</summary>
    public int Port => Adapter.BoundPort;

    /// <summary>The address MQTT over TLS listens on (null when TLS is off).</summary>
    public IPAddress? TlsAddress => Tls?.Address;

    /// <summary>The port MQTT over TLS listens on (0 when TLS is off).</summary>
    public int TlsPort => Adapter.TlsBoundPort;

    /// <summary>Serves one MQTT connection carried by a WebSocket (the gateway's <c>/mqtt</c> endpoint) through the
    /// same guards as a TCP connection: connection caps, CONNECT timeout, frame guard, authentication, topic rules and
    /// direct delivery. Completes when the connection ends; false when it was refused before MQTT (caps, not
    /// serving).</summary>
    /// <param name="transport">The WebSocket's bytes as a stream (binary messages).</param>
    /// <param name="remote">The HTTP peer.</param>
    /// <param name="local">The HTTP server's end point.</param>
    /// <param name="abort">Closes the connection at once.</param>
    public Task<bool> ServeWebSocketAsync(Stream transport, IPEndPoint remote, IPEndPoint local, Action abort) =>
        Adapter.ServeStreamAsync(transport, new WebSocketEndPoint(remote), local, abort);

    /// <summary>Disconnects every client connected over a WebSocket (DISCONNECT "server shutting down"). Called when
    /// the gateway has drained, before the HTTP server stops: the HTTP server would otherwise wait its whole shutdown
    /// timeout for those connections (they are HTTP requests) before the broker closes them with the TCP ones.</summary>
    public async Task DisconnectWebSocketClientsAsync()
    {
        if (!_server.IsStarted)
        {
            return;
        }

        foreach (var client in await _server.GetClientsAsync().ConfigureAwait(false))
        {
            if (client.RemoteEndPoint is WebSocketEndPoint)
            {
                try
                {
                    await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.ServerShuttingDown }).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
    }

    /// <inheritdoc/>
    public Task DisconnectDeviceAsync(string deviceId, bool deleteSession) =>
        DisconnectWhereAsync(identity => !identity.IsOps && identity.Name == deviceId, deleteSession);

    /// <inheritdoc/>
    public Task DisconnectOpsUserAsync(string userName) =>
        DisconnectWhereAsync(identity => identity.IsOps && identity.Name == userName, deleteSession: true);

    /// <summary>After <paramref name="delay"/>, disconnects the connection of exactly this identity (a provisioning
    /// client) and drops its session; nothing when it has gone already.</summary>
    internal async Task DisconnectIdentityAsync(ClientIdentity identity, TimeSpan delay)
    {
        await Task.Delay(delay, _time).ConfigureAwait(false);
        await DisconnectWhereAsync(candidate => ReferenceEquals(candidate, identity), deleteSession: true).ConfigureAwait(false);
    }

    // Sessions carry the identity that created them (ClientIdentity in the session items): that, not the client id,
    // says whose credential a connection used. DISCONNECT 0x87 tells an MQTT 5 client it is no longer authorised.
    private async Task DisconnectWhereAsync(Func<ClientIdentity, bool> matches, bool deleteSession)
    {
        if (!_server.IsStarted)
        {
            return;
        }

        var clients = (await _server.GetClientsAsync().ConfigureAwait(false)).ToDictionary(c => c.Id, StringComparer.Ordinal);
        foreach (var session in await _server.GetSessionsAsync().ConfigureAwait(false))
        {
            if (session.Items[ClientIdentity.SessionKey] is not ClientIdentity identity || !matches(identity))
            {
                continue;
            }

            var client = clients.GetValueOrDefault(session.Id);
            try
            {
                if (client is not null)
                {
                    await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized }).ConfigureAwait(false);
                }

                if (deleteSession)
                {
                    await session.DeleteAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>True from the server's start until it is stopped: it listens and serves clients.</summary>
    public bool IsStarted => _server.IsStarted;

    /// <summary>Messages queued in the sessions of connected clients and not yet written to their connections (acks,
    /// order updates, ops messages), for a graceful shutdown to wait for before the connections close. Offline
    /// persistent sessions are not counted: they cannot be delivered now.</summary>
    public async Task<long> CountUndeliveredAsync()
    {
        if (!_server.IsStarted)
        {
            return 0;
        }

        var clients = await _server.GetClientsAsync().ConfigureAwait(false);
        return clients.Sum(c => c.Session?.PendingApplicationMessagesCount ?? 0);
    }

    /// <inheritdoc/>
    public async Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var isOps = message.Topic.StartsWith(Topics.OpsPrefix, StringComparison.Ordinal);
        if (!isOps && !_server.IsStarted)
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
        if (!message.Retain && Topics.TryGetDeviceId(message.Topic, out var deviceId))
        {
            await DeliverToDeviceAsync(deviceId, applicationMessage).ConfigureAwait(false);
            return;
        }

        // A provisioning response can only match the one session subscribed to it (the authoriser allows nothing else).
        if (!message.Retain && Provisioning.TryGetResponseClientId(message.Topic, out var provisioningClient))
        {
            await DeliverToDeviceAsync(provisioningClient, applicationMessage).ConfigureAwait(false);
            return;
        }

        if (isOps)
        {
            // Retained ops state is kept even before the server starts: the gateway rebuilds it at start.
            await PublishToOpsAsync(applicationMessage).ConfigureAwait(false);
            return;
        }

        // Nothing else is published by the gateway today; keep the broker's own routing for anything that is.
        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(applicationMessage) { SenderClientId = GatewaySenderId }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a retained ops message for late subscribers and queues it in each ops session subscribed to a
    /// matching filter, at min(QoS 1, granted) and with the retain flag cleared unless the subscriber asked for
    /// Retain-As-Published — what MQTTnet's routing does for current subscribers.</summary>
    private async Task PublishToOpsAsync(MqttApplicationMessage message)
    {
        await _opsGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await PublishToOpsGatedAsync(message).ConfigureAwait(false);
        }
        finally
        {
            _opsGate.Release();
        }
    }

    private async Task PublishToOpsGatedAsync(MqttApplicationMessage message)
    {
        var retain = message.Retain;
        if (retain)
        {
            // The store keeps this instance: deliver copies, never mutate it.
            _retained.Set(message);
        }

        if (_opsSessions.IsEmpty || !_server.IsStarted)
        {
            return;
        }

        foreach (var subscriptions in _opsSessions.Snapshot)
        {
            if (!subscriptions.TryMatch(message.Topic, out var granted, out var retainAsPublished))
            {
                continue;
            }

            MqttSessionStatus session;
            try
            {
                session = await _server.GetSessionAsync(subscriptions.ClientId).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                _opsSessions.Remove(subscriptions);
                continue;
            }

            if (!ReferenceEquals(session.Items[SessionSubscriptions.SessionKey], subscriptions))
            {
                // The id now belongs to a newer session (clean-start takeover); it registers itself when it subscribes.
                _opsSessions.Remove(subscriptions);
                continue;
            }

            var copy = new MqttApplicationMessage
            {
                Topic = message.Topic,
                Payload = message.Payload,
                QualityOfServiceLevel = granted < MqttQualityOfServiceLevel.AtLeastOnce ? granted : MqttQualityOfServiceLevel.AtLeastOnce,
                Retain = retain && retainAsPublished,
                ContentType = message.ContentType,
                CorrelationData = message.CorrelationData,
            };
            session.TryEnqueueApplicationMessage(copy, out _);
        }
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

        if (session.Items[SessionSubscriptions.SessionKey] is not SessionSubscriptions subscriptions || !subscriptions.TryMatch(message.Topic, out var granted, out _))
        {
            return;
        }

        message.QualityOfServiceLevel = granted < MqttQualityOfServiceLevel.AtLeastOnce ? granted : MqttQualityOfServiceLevel.AtLeastOnce;

        // Overflow drops the oldest queued message and raises QueuedApplicationMessageOverwrittenAsync, as routed
        // messages do, so drops are still counted.
        session.TryEnqueueApplicationMessage(message, out _);
    }

    /// <summary>Records a granted subscription in the session's <see cref="SessionSubscriptions"/>; for a filter under
    /// ops, also the session in <see cref="OpsSessions"/>, and queues the retained ops messages it matches (see
    /// <see cref="RetainedOpsMessages"/>), as MQTTnet would from its own store: with the retain flag, at the lower of the
    /// granted QoS and the message's, unless the MQTT 5 retain handling says not to. Called from
    /// <c>ClientSubscribedTopicAsync</c>, before the SUBACK is queued (MQTT lets matching PUBLISHes precede it).</summary>
    internal async Task RecordSubscriptionAsync(ClientSubscribedTopicEventArgs e)
    {
        // The interceptor only refuses, never downgrades, so the requested QoS is the granted one. Only the device
        // namespace and the ops topics can get here (the authoriser refuses everything else).
        var filter = e.TopicFilter;
        var subscriptions = SessionSubscriptions.Of(e.SessionItems, e.ClientId);
        if (!filter.Topic.StartsWith(Topics.OpsPrefix, StringComparison.Ordinal))
        {
            subscriptions.Add(filter.Topic, filter.QualityOfServiceLevel, filter.RetainAsPublished);
            return;
        }

        await _opsGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var isNew = subscriptions.Add(filter.Topic, filter.QualityOfServiceLevel, filter.RetainAsPublished);
            _opsSessions.Add(subscriptions);
            if (filter.RetainHandling == MqttRetainHandling.DoNotSendOnSubscribe
                || (filter.RetainHandling == MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly && !isNew))
            {
                return;
            }

            MqttSessionStatus session;
            try
            {
                session = await _server.GetSessionAsync(e.ClientId).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                return; // gone already
            }

            if (!ReferenceEquals(session.Items[SessionSubscriptions.SessionKey], subscriptions))
            {
                return; // taken over by a newer session, which gets its own when it subscribes
            }

            foreach (var retained in _retained.Matching(filter.Topic))
            {
                session.TryEnqueueApplicationMessage(new MqttApplicationMessage
                {
                    Topic = retained.Topic,
                    Payload = retained.Payload,
                    QualityOfServiceLevel = filter.QualityOfServiceLevel < retained.QualityOfServiceLevel ? filter.QualityOfServiceLevel : retained.QualityOfServiceLevel,
                    Retain = true,
                    ContentType = retained.ContentType,
                }, out _);
            }
        }
        finally
        {
            _opsGate.Release();
        }
    }

    /// <summary>Forgets an unsubscribed filter. Called from <c>ClientUnsubscribedTopicAsync</c>.</summary>
    internal static void ForgetSubscription(ClientUnsubscribedTopicEventArgs e) =>
        (e.SessionItems[SessionSubscriptions.SessionKey] as SessionSubscriptions)?.Remove(e.TopicFilter);

    /// <summary>Drops a disconnected client's session from <see cref="OpsSessions"/>. Called from
    /// <c>ClientDisconnectedAsync</c>.</summary>
    internal void ForgetOpsSession(ClientDisconnectedEventArgs e)
    {
        // A takeover may hand the same session to the new connection (no clean start); publishing checks that.
        if (e.DisconnectType != MqttClientDisconnectType.Takeover && e.SessionItems[SessionSubscriptions.SessionKey] is SessionSubscriptions subscriptions)
        {
            _opsSessions.Remove(subscriptions);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _server.Dispose();
        _opsGate.Dispose();
        Adapter.Dispose();
        Refusals.Dispose();
    }
}
