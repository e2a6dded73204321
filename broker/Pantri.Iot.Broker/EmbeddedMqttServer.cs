using System.Buffers;
using System.Net;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Pantri.Iot.Broker.Transport;

namespace Pantri.Iot.Broker;

/// <summary>Owns the MQTTnet server and publishes the gateway's messages into it. Started by
/// <see cref="BrokerHostedService"/>, which also wires its authentication and authorisation.</summary>
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
        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(applicationMessage) { SenderClientId = GatewaySenderId }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _server.Dispose();
        Adapter.Dispose();
    }
}
