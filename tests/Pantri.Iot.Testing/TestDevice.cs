using System.Collections.Concurrent;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Testing;

/// <summary>A real MQTT client acting as a device: subscribes to its ack topic and waits for acks.</summary>
public sealed class TestDevice : IAsyncDisposable
{
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();
    private readonly SemaphoreSlim _signal = new(0);

    private TestDevice(IMqttClient client, string deviceId)
    {
        Client = client;
        DeviceId = deviceId;
        client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue(e.ApplicationMessage);
            _signal.Release();
            return Task.CompletedTask;
        };
    }

    public IMqttClient Client { get; }

    public string DeviceId { get; }

    public static MqttClientOptions Options(int port, string clientId, string userName, string password, MqttProtocolVersion version = MqttProtocolVersion.V500) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithCredentials(userName, password)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

    /// <summary>Connects and returns the CONNACK result code (refusals included).</summary>
    public static async Task<MqttClientConnectResultCode> TryConnectAsync(MqttClientOptions options)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(options);
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        return result.ResultCode;
    }

    /// <summary>Options for MQTT over WebSockets at <c>{httpBase}/mqtt</c> (subprotocol <c>mqtt</c>).</summary>
    public static MqttClientOptions WebSocketOptions(Uri httpBase, string clientId, string userName, string password, MqttProtocolVersion version = MqttProtocolVersion.V500) =>
        new MqttClientOptionsBuilder()
            .WithWebSocketServer(o => o.WithUri(new UriBuilder(httpBase) { Scheme = "ws", Path = "/mqtt" }.Uri.ToString()))
            .WithClientId(clientId)
            .WithCredentials(userName, password)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

    public static Task<TestDevice> ConnectAsync(int port, string deviceId, string key, MqttProtocolVersion version = MqttProtocolVersion.V500, bool subscribeAck = true) =>
        ConnectAsync(Options(port, deviceId, deviceId, key, version), deviceId, subscribeAck);

    /// <summary>Connects a device over MQTT over WebSockets.</summary>
    public static Task<TestDevice> ConnectWebSocketAsync(Uri httpBase, string deviceId, string key, MqttProtocolVersion version = MqttProtocolVersion.V500, bool subscribeAck = true) =>
        ConnectAsync(WebSocketOptions(httpBase, deviceId, deviceId, key, version), deviceId, subscribeAck);

    /// <summary>Connects a device with options built by the test (TLS, another transport).</summary>
    public static async Task<TestDevice> ConnectAsync(MqttClientOptions options, string deviceId, bool subscribeAck)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(options);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw new InvalidOperationException($"CONNECT refused: {result.ResultCode}");
        }

        var device = new TestDevice(client, deviceId);
        if (subscribeAck)
        {
            await device.SubscribeAsync(Topics.Device(deviceId, DeviceTopicKind.Ack));
        }

        return device;
    }

    public async Task<MqttClientSubscribeResultCode> SubscribeAsync(string filter)
    {
        var result = await Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build());
        return result.Items.Single().ResultCode;
    }

    public Task<MqttClientPublishResult> PublishAsync(DeviceTopicKind kind, string payload, bool retain = false, Action<MqttApplicationMessageBuilder>? configure = null) =>
        PublishRawAsync(Topics.Device(DeviceId, kind), payload, retain, configure);

    public Task<MqttClientPublishResult> PublishRawAsync(string topic, string payload, bool retain = false, Action<MqttApplicationMessageBuilder>? configure = null)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain);
        configure?.Invoke(builder);
        return Client.PublishAsync(builder.Build());
    }

    /// <summary>Publishes a request and returns the ack that arrives on the ack topic.</summary>
    public async Task<Acknowledgement> RequestAsync(DeviceTopicKind kind, string payload)
    {
        await PublishAsync(kind, payload);
        return await NextAckAsync();
    }

    public async Task<Acknowledgement> NextAckAsync(TimeSpan? timeout = null)
    {
        var message = await NextMessageAsync(m => m.Topic == Topics.Device(DeviceId, DeviceTopicKind.Ack), timeout ?? AckTimeout)
            ?? throw new TimeoutException($"No ack for {DeviceId} within {timeout ?? AckTimeout}");
        return ContractJson.DeserializeAcknowledgement(message.Payload.ToArray())!;
    }

    /// <summary>Waits for the next received message that matches; others are kept for later calls.</summary>
    public async Task<MqttApplicationMessage?> NextMessageAsync(Func<MqttApplicationMessage, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var skipped = new List<MqttApplicationMessage>();
        try
        {
            while (true)
            {
                while (_received.TryDequeue(out var message))
                {
                    if (match(message))
                    {
                        return message;
                    }

                    skipped.Add(message);
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !await _signal.WaitAsync(left))
                {
                    return null;
                }
            }
        }
        finally
        {
            foreach (var message in skipped)
            {
                _received.Enqueue(message);
            }
        }
    }

    /// <summary>True when nothing matching arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> ReceivesNothingAsync(Func<MqttApplicationMessage, bool> match, TimeSpan quiet) =>
        await NextMessageAsync(match, quiet) is null;

    public async ValueTask DisposeAsync()
    {
        if (Client.IsConnected)
        {
            await Client.DisconnectAsync();
        }

        Client.Dispose();
        _signal.Dispose();
    }
}
