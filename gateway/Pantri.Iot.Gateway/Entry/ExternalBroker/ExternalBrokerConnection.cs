using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>This instance's one MQTT 5 connection to the external broker: publishes the gateway's messages (acks,
/// order updates, ops), holds the subscriptions others register (restored after every reconnect) and routes what
/// arrives to them. Connects on first use, so the ops state published at start goes out before the intake
/// subscribes; reconnects with a back-off while the host runs.</summary>
public sealed partial class ExternalBrokerConnection : BackgroundService, IGatewayPublisher
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private static readonly string PresencePrefix = Pantri.Iot.Contract.Topics.OpsDevice(string.Empty);

    private readonly ExternalBrokerOptions _options;
    private readonly ILogger<ExternalBrokerConnection> _logger;
    private readonly IMqttClient _client;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly List<(MqttTopicFilter Filter, Func<MqttApplicationMessageReceivedEventArgs, Task> Handler)> _subscriptions = [];
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the (not yet connected) client.</summary>
    public ExternalBrokerConnection(IOptions<ExternalBrokerOptions> options, ILogger<ExternalBrokerConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        // An underscore can never be in a DeviceId, so no device can take this client id (and the session) over.
        ClientId = ClientIdPrefix + Environment.MachineName.ToLowerInvariant() + "_" + Guid.NewGuid().ToString("N")[..8];
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += RouteAsync;
        _client.DisconnectedAsync += e =>
        {
            Interlocked.Exchange(ref _lost, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Task.CompletedTask;
        };
    }

    /// <summary>How every gateway instance's client id starts (the HTTP authorisation endpoints know the gateway by it).</summary>
    public const string ClientIdPrefix = "gw_";

    /// <summary>This instance's client id at the broker.</summary>
    public string ClientId { get; }

    /// <summary>True while connected.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Completes when the current connection is lost (at once when not connected).</summary>
    public Task Disconnected => _client.IsConnected ? Volatile.Read(ref _lost).Task : Task.CompletedTask;

    /// <summary>Subscribes <paramref name="filter"/> now and after every reconnect; messages matching its topic go to
    /// <paramref name="handler"/> (which must return quickly: the client reads the next message after it).</summary>
    public async Task SubscribeAsync(MqttTopicFilter filter, Func<MqttApplicationMessageReceivedEventArgs, Task> handler, CancellationToken cancellationToken)
    {
        lock (_subscriptions)
        {
            _subscriptions.Add((filter, handler));
        }

        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        await SubscribeOnceAsync([filter], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Topic.StartsWith(PresencePrefix, StringComparison.Ordinal))
        {
            // Presence comes from the broker's connection events, which an external broker does not give its clients:
            // the rebuild's "offline, gateway restarted" would mark devices connected to the broker offline whenever
            // an instance starts. External mode publishes no presence (README: Running beyond one machine).
            return;
        }

        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(message.Topic)
            .WithPayload(message.Payload.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(message.Retain);
        if (!message.CorrelationData.IsEmpty)
        {
            builder.WithCorrelationData(message.CorrelationData.ToArray());
        }

        var result = await _client.PublishAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        // 0x10 "no matching subscribers" is normal (a device that is offline without a session).
        if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
        {
            throw new InvalidOperationException($"the broker refused the publish to {message.Topic}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    /// <summary>Connects unless connected (one attempt; throws when the broker cannot be reached or refuses).</summary>
    public async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            return;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client.IsConnected)
            {
                return;
            }

            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer(_options.Host, _options.Port)
                .WithClientId(ClientId)
                .WithCredentials(_options.Username, _options.Password)
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
                .WithCleanStart()
                .WithReceiveMaximum((ushort)_options.MaxInFlight)
                .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
                .WithTimeout(TimeSpan.FromSeconds(10));
            if (_options.UseTls)
            {
                builder.WithTlsOptions(tls => tls.UseTls().WithTargetHost(_options.Host));
            }

            var result = await _client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new InvalidOperationException($"the broker at {_options.Host}:{_options.Port} refused the gateway: {result.ResultCode} {result.ReasonString}");
            }

            LogConnected(_logger, _options.Host, _options.Port, ClientId);
            List<MqttTopicFilter> filters;
            lock (_subscriptions)
            {
                filters = _subscriptions.Select(s => s.Filter).ToList();
            }

            if (filters.Count > 0)
            {
                await SubscribeOnceAsync(filters, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        // Not at StopAsync: this service stops first (registered last), and the outbound publisher and the writer,
        // stopping after it, still publish what they drain. The host disposes singletons once every service stopped.
        if (_client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
            {
                // The broker drops the connection anyway.
            }
        }

        _client.Dispose();
        _connectLock.Dispose();
        base.Dispose();
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var lost = Volatile.Read(ref _lost).Task;
                await EnsureConnectedAsync(stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(100);
                if (_client.IsConnected)
                {
                    await lost.WaitAsync(stoppingToken).ConfigureAwait(false);
                    LogLost(_logger, _options.Host, _options.Port);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure to connect is retried with a back-off; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogConnectFailed(_logger, ex, _options.Host, _options.Port, backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private async Task SubscribeOnceAsync(IEnumerable<MqttTopicFilter> filters, CancellationToken cancellationToken)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        foreach (var filter in filters)
        {
            builder.WithTopicFilter(filter);
        }

        var result = await _client.SubscribeAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        var refused = result.Items.Where(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2).ToList();
        if (refused.Count > 0)
        {
            throw new InvalidOperationException("the broker refused the gateway's subscriptions: "
                + string.Join(", ", refused.Select(i => $"{i.TopicFilter.Topic} ({i.ResultCode})")));
        }
    }

    private Task RouteAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var topic = e.ApplicationMessage.Topic;
        Func<MqttApplicationMessageReceivedEventArgs, Task>? handler = null;
        lock (_subscriptions)
        {
            foreach (var (filter, h) in _subscriptions)
            {
                if (MqttTopicFilterComparer.Compare(topic, SharedTopic(filter.Topic)) == MqttTopicFilterCompareResult.IsMatch)
                {
                    handler = h;
                    break;
                }
            }
        }

        return handler is null ? Task.CompletedTask : handler(e);
    }

    // "$share/{group}/{filter}" delivers messages on topics matching {filter}.
    private static string SharedTopic(string filter)
    {
        if (!filter.StartsWith("$share/", StringComparison.Ordinal))
        {
            return filter;
        }

        var slash = filter.IndexOf('/', "$share/".Length);
        return slash < 0 ? filter : filter[(slash + 1)..];
    }

    [LoggerMessage(EventId = 5400, Level = LogLevel.Information, Message = "Connected to the external broker {Host}:{Port} as {ClientId}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string clientId);

    [LoggerMessage(EventId = 5401, Level = LogLevel.Warning, Message = "Lost the connection to the external broker {Host}:{Port}; reconnecting")]
    private static partial void LogLost(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 5402, Level = LogLevel.Warning, Message = "Could not connect to the external broker {Host}:{Port}; next attempt in {Backoff}")]
    private static partial void LogConnectFailed(ILogger logger, Exception exception, string host, int port, TimeSpan backoff);
}
