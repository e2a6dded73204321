using System.Buffers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>Publishes one household's instructions to Home Assistant's MQTT broker: MQTT discovery configs (so each
/// tracked instruction appears as level, usage-per-day and days-to-re-order sensors and each instruction as an
/// open-order sensor, grouped in a device named after the product) and their states, all retained, with the bridge's
/// availability (a will sets it <c>offline</c>). Fed by <see cref="HomeAssistantTee"/> with the retained ops states the
/// gateway publishes after each commit and at start; off the ack path (a bounded queue; when Home Assistant's broker
/// is away, the newest state per topic is kept and published on reconnect).</summary>
public sealed partial class HomeAssistantBridge : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(5);

    private readonly HomeAssistantOptions _options;
    private readonly HomeAssistantDiscovery _discovery;
    private readonly IServiceProvider _services;
    private CommandWriter? _writer;
    private readonly TimeProvider _time;
    private readonly ILogger<HomeAssistantBridge> _logger;
    private readonly Channel<OutboundMessage> _updates = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    // Everything published, newest per topic, to publish again after a reconnect: one config per sensor and one state
    // per instruction of the household, so bounded by its instructions.
    private readonly Dictionary<string, byte[]> _retained = new(StringComparer.Ordinal);
    private readonly Dictionary<long, InstructionLookup.Info> _instructions = [];
    private readonly Dictionary<long, long> _openOrders = [];
    private readonly HashSet<string> _configured = new(StringComparer.Ordinal);

    /// <summary>Creates the bridge. The writer is resolved when the bridge starts, not here: the writer's publisher
    /// leads to the tee, and the tee to this bridge.</summary>
    public HomeAssistantBridge(IOptions<HomeAssistantOptions> options, IServiceProvider services, TimeProvider time, ILogger<HomeAssistantBridge> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _discovery = new HomeAssistantDiscovery(_options);
        _services = services;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues a retained inventory or order state for Home Assistant (never blocks).</summary>
    internal void Offer(OutboundMessage message) => _updates.Writer.TryWrite(message);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _writer = _services.GetRequiredService<CommandWriter>();
        using var client = new MqttClientFactory().CreateMqttClient();
        var delay = TimeSpan.Zero;
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!client.IsConnected)
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                }

                try
                {
                    await ConnectAsync(client, stoppingToken).ConfigureAwait(false);
                    LogConnected(_logger, _options.Host!, _options.Port, _retained.Count);
                    failing = false;
                    delay = TimeSpan.Zero;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    if (!failing)
                    {
                        LogUnreachable(_logger, _options.Host!, _options.Port, ex.Message);
                        failing = true;
                    }

                    delay = delay == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                    continue;
                }
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            idle.CancelAfter(IdleCheck);
            try
            {
                await _updates.Reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                continue; // look at the connection again
            }

            while (_updates.Reader.TryRead(out var update))
            {
                foreach (var (topic, payload) in await TranslateAsync(update, stoppingToken).ConfigureAwait(false))
                {
                    _retained[topic] = payload;
                    if (client.IsConnected)
                    {
                        await TryPublishAsync(client, topic, payload, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
        }

        if (client.IsConnected)
        {
            // A clean stop says so: the will is sent only when the connection drops.
            await TryPublishAsync(client, _discovery.AvailabilityTopic, "offline"u8.ToArray(), CancellationToken.None).ConfigureAwait(false);
            await client.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task ConnectAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithClientId(_options.ClientId)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(_discovery.AvailabilityTopic)
            .WithWillPayload("offline"u8.ToArray())
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (!string.IsNullOrEmpty(_options.Username))
        {
            builder.WithCredentials(_options.Username, _options.Password);
        }

        if (_options.UseTls)
        {
            var ca = _options.CaCertificatePath is { Length: > 0 } path ? X509CertificateLoader.LoadCertificateFromFile(path) : null;
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(_options.Host);
                if (ca is not null)
                {
                    tls.WithCertificateValidationHandler(e => TrustedBy(ca, e.Certificate, e.SslPolicyErrors));
                }
            });
        }

        await client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        await client.PublishAsync(Retained(_discovery.AvailabilityTopic, "online"u8.ToArray()), cancellationToken).ConfigureAwait(false);
        foreach (var (topic, payload) in _retained)
        {
            await client.PublishAsync(Retained(topic, payload), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TryPublishAsync(IMqttClient client, string topic, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            await client.PublishAsync(Retained(topic, payload), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Kept in _retained: published again once reconnected.
            LogPublishFailed(_logger, topic, ex.Message);
        }
    }

    /// <summary>What one gateway state becomes in Home Assistant: nothing for another household's instruction; else the
    /// sensors' configs the first time, then the state.</summary>
    private async Task<List<(string Topic, byte[] Payload)>> TranslateAsync(OutboundMessage update, CancellationToken cancellationToken)
    {
        var output = new List<(string, byte[])>();
        try
        {
            if (update.Topic.StartsWith(HomeAssistantTee.InventoryPrefix, StringComparison.Ordinal))
            {
                var status = JsonSerializer.Deserialize(update.Payload.Span, ContractJson.Default.InventoryStatus);
                if (status is not null && await HouseholdInstructionAsync(status.InstructionRef, cancellationToken).ConfigureAwait(false) is { } info)
                {
                    if (_configured.Add(_discovery.InventoryTopic(status.InstructionRef)))
                    {
                        output.AddRange(_discovery.InventoryConfigs(status.InstructionRef, info));
                    }

                    if (AddOrderConfig(output, status.InstructionRef, info) && !_openOrders.ContainsKey(status.InstructionRef))
                    {
                        // No order seen yet: the open-order sensor says None rather than unknown (an open order's
                        // state, published at start or later, replaces it).
                        output.Add((_discovery.OrderTopic(status.InstructionRef), HomeAssistantDiscovery.NoOrderState));
                    }

                    output.Add((_discovery.InventoryTopic(status.InstructionRef), HomeAssistantDiscovery.InventoryState(status)));
                }
            }
            else
            {
                var order = JsonSerializer.Deserialize(update.Payload.Span, ContractJson.Default.OrderStatus);
                if (order is not null && await HouseholdInstructionAsync(order.InstructionRef, cancellationToken).ConfigureAwait(false) is { } info)
                {
                    var open = Array.IndexOf(HomeAssistantDiscovery.OrderOptions, order.State) > 0;
                    var current = _openOrders.GetValueOrDefault(order.InstructionRef);
                    if (!open && current != 0 && current != order.OrderRef)
                    {
                        return output; // an older order closing (or its retained state cleared) while a newer one is open
                    }

                    if (open)
                    {
                        _openOrders[order.InstructionRef] = order.OrderRef;
                    }
                    else
                    {
                        _openOrders.Remove(order.InstructionRef);
                    }

                    AddOrderConfig(output, order.InstructionRef, info);
                    output.Add((_discovery.OrderTopic(order.InstructionRef), HomeAssistantDiscovery.OrderState(order, open)));
                }
            }
        }
        catch (JsonException ex)
        {
            LogUnreadable(_logger, update.Topic, ex.Message);
        }

        return output;
    }

    /// <summary>Adds the open-order sensor's config the first time; true then.</summary>
    private bool AddOrderConfig(List<(string, byte[])> output, long instructionRef, InstructionLookup.Info info)
    {
        if (!_configured.Add(_discovery.OrderTopic(instructionRef)))
        {
            return false;
        }

        output.Add(_discovery.OrderConfig(instructionRef, info));
        return true;
    }

    /// <summary>The instruction's details when it belongs to the bridged household (asked of the writer once per
    /// instruction); null otherwise.</summary>
    private async Task<InstructionLookup.Info?> HouseholdInstructionAsync(long instructionRef, CancellationToken cancellationToken)
    {
        if (!_instructions.TryGetValue(instructionRef, out var info))
        {
            info = await _writer!.SubmitAsync(new InstructionLookup(instructionRef), cancellationToken).ConfigureAwait(false);
            if (info is null)
            {
                return null; // unknown or storage down: asked again next time
            }

            _instructions[instructionRef] = info;
        }

        return string.Equals(info.AccountId, _options.AccountId, StringComparison.Ordinal) ? info : null;
    }

    private static MqttApplicationMessage Retained(string topic, byte[] payload) => new()
    {
        Topic = topic,
        Payload = new ReadOnlySequence<byte>(payload),
        QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        Retain = true,
    };

    private static bool TrustedBy(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }

    [LoggerMessage(EventId = 5300, Level = LogLevel.Information, Message = "Home Assistant bridge connected to {Host}:{Port}; {Count} retained configs and states published again")]
    private static partial void LogConnected(ILogger logger, string host, int port, int count);

    [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "Home Assistant's broker {Host}:{Port} is unreachable ({Reason}); retrying with a back-off of up to 30 s, states are kept")]
    private static partial void LogUnreachable(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 5302, Level = LogLevel.Warning, Message = "Publishing {Topic} to Home Assistant failed ({Reason}); it is published again after reconnecting")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 5303, Level = LogLevel.Warning, Message = "An ops state on {Topic} could not be read for Home Assistant: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string topic, string reason);
}
