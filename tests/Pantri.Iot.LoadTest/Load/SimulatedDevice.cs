using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>One device as the firmware behaves: a real MQTT client logged in as itself, subscribed to its ack
/// topic, publishing trigger and level requests with a RequestId at QoS 1.</summary>
public sealed class SimulatedDevice : IDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly string _triggerTopic;
    private readonly string _levelTopic;
    private readonly string _ackTopic;
    private AckTracker _tracker;
    private int _ordered = -1;

    /// <summary>Creates the (unconnected) client. <paramref name="localAddress"/> spreads many clients over several
    /// loopback source addresses, each with its own ephemeral port range.</summary>
    public SimulatedDevice(DeviceCredential credential, string host, int port, IPAddress localAddress, AckTracker tracker)
    {
        ArgumentNullException.ThrowIfNull(credential);
        Credential = credential;
        _tracker = tracker;
        _triggerTopic = Topics.Device(credential.DeviceId, DeviceTopicKind.Trigger);
        _levelTopic = Topics.Device(credential.DeviceId, DeviceTopicKind.Level);
        _ackTopic = Topics.Device(credential.DeviceId, DeviceTopicKind.Ack);
        _client = new MqttClientFactory().CreateMqttClient();
        _options = new MqttClientOptionsBuilder()
            .WithTcpServer(o =>
            {
                o.LocalEndpoint = new IPEndPoint(localAddress, 0);
                o.BufferSize = 2048;
            })
            .WithEndPoint(new IPEndPoint(IPAddress.Parse(host), port))
            .WithClientId(credential.DeviceId)
            .WithCredentials(credential.DeviceId, credential.Key)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromMinutes(5))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var now = Stopwatch.GetTimestamp();
            var payload = e.ApplicationMessage.Payload;
            if (payload.IsSingleSegment)
            {
                _tracker.OnAck(payload.FirstSpan, now);
            }
            else
            {
                _tracker.OnAck(payload.ToArray(), now);
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>The device's login.</summary>
    public DeviceCredential Credential { get; }

    /// <summary>True while the MQTT connection is up.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Routes later acks to another tracker (a new measurement window).</summary>
    public void UseTracker(AckTracker tracker) => _tracker = tracker;

    /// <summary>Connects and subscribes to the ack topic.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var connected = await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        if (connected.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"{Credential.DeviceId}: CONNECT refused with {connected.ResultCode}");
        }

        var subscribed = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_ackTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        if (subscribed.Items.Count != 1 || subscribed.Items.First().ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
        {
            throw new InvalidOperationException($"{Credential.DeviceId}: SUBSCRIBE to its ack topic refused");
        }
    }

    /// <summary>Publishes one request scheduled at <paramref name="scheduledTimestamp"/>; returns when the PUBACK
    /// arrives, false when the publish failed.</summary>
    public async Task<bool> SendAsync(RequestKind kind, string requestId, long scheduledTimestamp, CancellationToken cancellationToken)
    {
        var json = kind switch
        {
            RequestKind.Level => string.Create(CultureInfo.InvariantCulture, $"{{\"Instruction_Ref\":{Credential.InstructionRef},\"Level\":12,\"RequestId\":\"{requestId}\"}}"),
            RequestKind.Order => string.Create(CultureInfo.InvariantCulture, $"{{\"Instruction_Ref\":{NextOrderInstruction()},\"RequestId\":\"{requestId}\"}}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{{\"Instruction_Ref\":{Credential.InstructionRef},\"RequestId\":\"{requestId}\"}}"),
        };
        var message = new MqttApplicationMessage
        {
            Topic = kind == RequestKind.Level ? _levelTopic : _triggerTopic,
            Payload = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        };
        _tracker.Register(requestId, scheduledTimestamp);
        try
        {
            var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
            {
                _tracker.PublishFailedFor(requestId);
                return false;
            }

            return true;
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            _tracker.PublishFailedFor(requestId);
            return false;
        }
    }

    // Against E and M (no provisioning) any ref will do.
    private long NextOrderInstruction()
    {
        var refs = Credential.OrderInstructionRefs;
        return refs.Count == 0 ? Credential.InstructionRef : refs[Interlocked.Increment(ref _ordered) % refs.Count];
    }

    /// <summary>Disconnects cleanly (best effort).</summary>
    public async Task DisconnectAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync().ConfigureAwait(false);
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // Already gone: nothing to close.
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _client.Dispose();
}
