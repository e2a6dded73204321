using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Buffers;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>A device that presses its own instruction in a loop, as firmware does: each press carries a new RequestId and
/// the next press follows its PUBACK; on the next connection it first retries, with the same RequestIds, every press
/// whose ack it never saw. It records what it sent, what was PUBACKed and every ack it received.</summary>
internal sealed class PressingDevice(string deviceId, string key, long instructionRef, MqttProtocolVersion version)
{
    private readonly ConcurrentQueue<string> _sent = new();
    private readonly ConcurrentDictionary<string, byte> _pubAcked = new();
    private readonly ConcurrentQueue<Acknowledgement> _acks = new();
    private int _presses;

    public string DeviceId { get; } = deviceId;

    public long InstructionRef { get; } = instructionRef;

    /// <summary>Every RequestId sent at least once.</summary>
    public IReadOnlyCollection<string> Sent => _sent.Distinct().ToList();

    /// <summary>RequestIds whose publish got a successful PUBACK.</summary>
    public IReadOnlyCollection<string> PubAcked => _pubAcked.Keys.ToList();

    /// <summary>Every ack received, replays included.</summary>
    public IReadOnlyList<Acknowledgement> Acks => _acks.ToList();

    public IReadOnlyCollection<string> Unacked => Sent.Except(_acks.Select(a => a.RequestId!)).ToList();

    /// <summary>Creates <paramref name="count"/> devices, each paired with an instruction of its own, through the setup API.</summary>
    public static async Task<List<PressingDevice>> CreateAsync(Uri httpBase, string userAuth, int count)
    {
        using var http = new HttpClient { BaseAddress = httpBase, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("User_Auth", userAuth);
        var devices = new List<PressingDevice>();
        for (var i = 0; i < count; i++)
        {
            var created = await (await http.PostAsJsonAsync("/v1/devices", new { Name = $"presser-{i}" })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            var id = created.GetProperty(nameof(DeviceId)).GetString()!;
            var instruction = await (await http.PostAsJsonAsync("/v1/instructions", new { Product = "Item " + i, Retailer = "shop", DeviceIds = new[] { id } })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            devices.Add(new PressingDevice(
                id,
                created.GetProperty(FieldNames.DeviceKey).GetString()!,
                instruction.GetProperty(FieldNames.InstructionRef).GetInt64(),
                i % 2 == 0 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311));
        }

        return devices;
    }

    /// <summary>Connects, retries the unacked presses, then presses until <paramref name="stop"/> or until the connection
    /// is lost; keeps listening for acks for <paramref name="linger"/> after that.</summary>
    public async Task PressAsync(int port, CancellationToken stop, TimeSpan linger = default)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            _acks.Enqueue(ContractJson.DeserializeAcknowledgement(e.ApplicationMessage.Payload.ToArray())!);
            return Task.CompletedTask;
        };
        try
        {
            using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(TestDevice.Options(port, DeviceId, DeviceId, key, version), connectTimeout.Token);
            await client.SubscribeAsync(Topics.Device(DeviceId, DeviceTopicKind.Ack), MqttQualityOfServiceLevel.AtLeastOnce, connectTimeout.Token);
            foreach (var retry in Unacked)
            {
                await PublishAsync(client, retry, stop);
            }

            // And the last press it did see acknowledged, as a device does that is not sure its ack arrived: this one is
            // certainly stored, so its answer must be a replay of the same command, whatever moment the last kill hit.
            if (_acks.LastOrDefault(a => a.Replayed != true)?.RequestId is { } lastAcked)
            {
                await PublishAsync(client, lastAcked, stop);
            }

            while (!stop.IsCancellationRequested)
            {
                await PublishAsync(client, $"{DeviceId}-{Interlocked.Increment(ref _presses)}", stop);
            }
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The gateway went away (killed, or stopped) or the test stopped pressing.
        }

        if (linger > TimeSpan.Zero)
        {
            await Task.Delay(linger, CancellationToken.None);
        }
    }

    private async Task PublishAsync(IMqttClient client, string requestId, CancellationToken stop)
    {
        _sent.Enqueue(requestId);
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Device(DeviceId, DeviceTopicKind.Trigger))
            .WithPayload(RequestPayloads.Trigger(InstructionRef, requestId))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build(), stop);
        if (result.IsSuccess)
        {
            _pubAcked.TryAdd(requestId, 0);
        }
    }
}
