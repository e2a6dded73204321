using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Testing;

/// <summary>An ops dashboard client: a real MQTT client logged in with the ops credential.</summary>
public sealed class OpsClient : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly List<(string Topic, JsonElement Json)> _messages = [];

    private OpsClient(IMqttClient client)
    {
        _client = client;
        client.ApplicationMessageReceivedAsync += e =>
        {
            using var doc = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
            lock (_messages)
            {
                _messages.Add((e.ApplicationMessage.Topic, doc.RootElement.Clone()));
            }

            return Task.CompletedTask;
        };
    }

    public static async Task<OpsClient> ConnectAsync(TestGateway gateway, string filter = Topics.OpsAll, bool cleanStart = true)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var ops = new OpsClient(client); // listening before subscribing, so retained messages are not missed
        var options = TestDevice.Options(gateway.MqttPort, "ops-test", TestGateway.OpsUser, TestGateway.OpsPassword);
        options.CleanSession = cleanStart;
        await client.ConnectAsync(options);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return ops;
    }

    public async Task<JsonElement> NextJsonAsync(string topic, Func<JsonElement, bool> match)
    {
        var deadline = DateTime.UtcNow + TestDevice.AckTimeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_messages)
            {
                var index = _messages.FindIndex(m => m.Topic == topic && match(m.Json));
                if (index >= 0)
                {
                    var found = _messages[index].Json;
                    _messages.RemoveAt(index);
                    return found;
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Nothing matching on {topic}");
    }

    /// <summary>True when nothing matching <paramref name="topic"/> arrives (or is already here) within <paramref name="quiet"/>.</summary>
    public async Task<bool> ReceivesNothingAsync(Func<string, bool> topic, TimeSpan quiet)
    {
        await Task.Delay(quiet);
        lock (_messages)
        {
            return !_messages.Exists(m => topic(m.Topic));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}
