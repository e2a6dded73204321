// Shows: a smart jar tracking cookies — one level report, then a usage report per cookie taken, printing the level,
// whether the rule is armed, the forecast, and the order the gateway places when the trigger point is reached.
// Uses MQTT 5 request/response: the ack comes back on a response topic inside the jar's own namespace.
// Run: dotnet run --project samples/SmartJar -- [path/to/demo-household.json] [cookies to take] [host] [port]
using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

var file = args.Length > 0 ? args[0] : Path.Combine("data", DemoHouseholdFile.FileName);
var take = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
var host = args.Length > 2 ? args[2] : "127.0.0.1";
var port = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1883;

var jar = DemoHouseholdFile.Read(file).Device("demo-jar");
var deviceId = jar.DeviceId;
// Inside the jar's own namespace (Topics.IsOwnResponseTopic), or the gateway ignores it and acks on …/ack.
var responseTopic = Topics.DeviceNamespace(deviceId) + "replies";

using var client = new MqttClientFactory().CreateMqttClient();
var pending = new System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<Acknowledgement>>();
client.ApplicationMessageReceivedAsync += e =>
{
    var correlation = Encoding.UTF8.GetString(e.ApplicationMessage.CorrelationData ?? []);
    if (pending.TryRemove(correlation, out var waiter))
    {
        waiter.TrySetResult(ContractJson.DeserializeAcknowledgement(e.ApplicationMessage.Payload.FirstSpan)!);
    }

    return Task.CompletedTask;
};

await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(deviceId).WithCredentials(deviceId, jar.DeviceKey)
    .WithProtocolVersion(MqttProtocolVersion.V500).Build());
await client.SubscribeAsync(responseTopic, MqttQualityOfServiceLevel.AtLeastOnce);

async Task<Acknowledgement> Send(DeviceTopicKind kind, byte[] payload)
{
    var correlation = Guid.NewGuid().ToString("N");
    var waiter = new TaskCompletionSource<Acknowledgement>();
    pending[correlation] = waiter;
    await client.PublishAsync(new MqttApplicationMessageBuilder()
        .WithTopic(Topics.Device(deviceId, kind))
        .WithPayload(payload)
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .WithResponseTopic(responseTopic)
        .WithCorrelationData(Encoding.UTF8.GetBytes(correlation))
        .Build());
    return await waiter.Task.WaitAsync(TimeSpan.FromSeconds(10));
}

void Print(Acknowledgement ack) => Console.WriteLine(
    $"ID {ack.Id} {ack.Status,-40} level {ack.Level?.ToString(CultureInfo.InvariantCulture) ?? "-",4}  armed {ack.Armed}  " +
    $"forecast {ack.Forecast?.State} {ack.Forecast?.HoursToReorder?.ToString("0.0", CultureInfo.InvariantCulture) ?? ""}" +
    (ack.OrderRef is { } order ? $"  order {order}" : string.Empty) + (ack.Note is { } note ? $"  ({note})" : string.Empty));

// Start from the level the demo household was created with, so every run counts down the same way.
Print(await Send(DeviceTopicKind.Level, RequestPayloads.Level(jar.InstructionRef, jar.Level ?? 12)));
for (var i = 0; i < take; i++)
{
    Print(await Send(DeviceTopicKind.Usage, RequestPayloads.Usage(jar.InstructionRef)));
}

await client.DisconnectAsync();
