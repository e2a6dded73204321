using System.Net;
using MQTTnet.Server;
using Pantri.Iot.Contract;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>Baseline E: the same MQTTnet server the gateway embeds, whose publish interceptor answers every device
/// request at once with an ack on the same topic shape — no pipeline, no storage. The gap between E and the gateway
/// is what the pipeline and LiteDB cost.</summary>
public sealed class EchoBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly EchoAck _acks = new();

    /// <summary>Creates the broker on 127.0.0.1:<paramref name="port"/> with the gateway's queue settings.</summary>
    public EchoBroker(int port)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithMaxPendingMessagesPerClient(256)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        _server.InterceptingPublishAsync += AnswerAsync;
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync() => _server.StartAsync();

    private async Task AnswerAsync(InterceptingPublishEventArgs e)
    {
        if (e.ClientId.Length == 0 || !Topics.TryParseDeviceTopic(e.ApplicationMessage.Topic, out var deviceId, out var kind) || !Topics.IsRequest(kind))
        {
            return;
        }

        // Like the gateway: the request is consumed, and the PUBACK follows the ack.
        e.ProcessPublish = false;
        var message = _acks.For(deviceId, e.ApplicationMessage.Payload);
        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = string.Empty }, e.CancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
