using System.Net;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>The application half of baseline M: one MQTT client on Mosquitto that subscribes to every device's
/// request topics and answers each with an ack, as a gateway running as a client of an external broker would.</summary>
public sealed class MosquittoEcho : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly EchoAck _acks = new();
    private long _failed;

    /// <summary>Acks that could not be published.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and subscribes.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            if (!Topics.TryParseDeviceTopic(e.ApplicationMessage.Topic, out var deviceId, out _))
            {
                return Task.CompletedTask;
            }

            var message = _acks.For(deviceId, e.ApplicationMessage.Payload);

            // Not awaited: waiting for each ack's PUBACK here would make one echo client the bottleneck.
            _ = PublishAsync(message);
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(o => o.BufferSize = 65536)
            .WithEndPoint(new IPEndPoint(IPAddress.Loopback, port))
            .WithClientId("pantri-echo")
            .WithCleanSession()
            .Build();
        await _client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Topics.DevicesPrefix + "+/trigger", MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter(Topics.DevicesPrefix + "+/level", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build(), cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishAsync(MqttApplicationMessage message)
    {
        try
        {
            await _client.PublishAsync(message).ConfigureAwait(false);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync().ConfigureAwait(false);
        }

        _client.Dispose();
    }
}
