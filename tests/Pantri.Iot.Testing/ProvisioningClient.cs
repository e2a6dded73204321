using System.Text;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Testing;

/// <summary>A new device before it has credentials: connects as the provisioning identity (<c>prov-…</c>, username
/// <c>provision</c>), subscribes to its response topic and sends pairing codes.</summary>
public sealed class ProvisioningClient : IAsyncDisposable
{
    private readonly Channel<MqttApplicationMessage> _received = Channel.CreateUnbounded<MqttApplicationMessage>();

    private ProvisioningClient(IMqttClient client, string clientId)
    {
        Client = client;
        ClientId = clientId;
        client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite(e.ApplicationMessage);
            return Task.CompletedTask;
        };
    }

    public IMqttClient Client { get; }

    public string ClientId { get; }

    public static async Task<ProvisioningClient> ConnectAsync(int port, string clientId, string? password = null, bool subscribe = true)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithCredentials(Provisioning.UserName, password ?? string.Empty)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        var result = await client.ConnectAsync(options);
        Assert.That(result.ResultCode, Is.EqualTo(MqttClientConnectResultCode.Success), "the provisioning identity connects");
        var provisioning = new ProvisioningClient(client, clientId);
        if (subscribe)
        {
            var subscribed = await client.SubscribeAsync(Provisioning.ResponseTopic(clientId), MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
            Assert.That(subscribed.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
        }

        return provisioning;
    }

    /// <summary>Sends <c>{"Code": code}</c> and waits for the answer.</summary>
    public Task<ProvisioningResponse> RedeemAsync(string code) => RequestAsync($$"""{"Code":"{{code}}"}""");

    /// <summary>Sends a raw payload on the request topic and waits for the answer.</summary>
    public async Task<ProvisioningResponse> RequestAsync(string payload)
    {
        await Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Provisioning.RequestTopic(ClientId))
            .WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        using var timeout = new CancellationTokenSource(TestDevice.AckTimeout);
        var message = await _received.Reader.ReadAsync(timeout.Token);
        Assert.That(message.Topic, Is.EqualTo(Provisioning.ResponseTopic(ClientId)));
        return ContractJson.DeserializeProvisioningResponse(message.Payload.ToArray())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Client.IsConnected)
        {
            await Client.DisconnectAsync();
        }

        Client.Dispose();
    }
}
