// Shows: an IoT button press as firmware does it — connect with the device's own credentials, subscribe to its ack
// topic, publish one trigger with a RequestId, print the acknowledgement.
// Run: dotnet run --project samples/DemoButton -- [path/to/demo-household.json] [host] [port]
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

var file = args.Length > 0 ? args[0] : "data/demo-household.json";
var host = args.Length > 1 ? args[1] : "127.0.0.1";
var port = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1883;

using var demo = JsonDocument.Parse(await File.ReadAllTextAsync(file));
var button = demo.RootElement.GetProperty("Devices")[0];
var deviceId = button.GetProperty("DeviceId").GetString()!;
var key = button.GetProperty("Device_Key").GetString()!;
var instructionRef = button.GetProperty("Instruction_Ref").GetInt64();

using var client = new MqttClientFactory().CreateMqttClient();
var ack = new TaskCompletionSource<Acknowledgement>();
client.ApplicationMessageReceivedAsync += e =>
{
    ack.TrySetResult(ContractJson.DeserializeAcknowledgement(e.ApplicationMessage.Payload.FirstSpan)!);
    return Task.CompletedTask;
};

await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(deviceId).WithCredentials(deviceId, key).Build());
await client.SubscribeAsync(Topics.Device(deviceId, DeviceTopicKind.Ack), MqttQualityOfServiceLevel.AtLeastOnce);

// A RequestId makes the press safe to resend: a retry after a lost ack replays the same CommandRef.
var payload = $$"""{"Instruction_Ref": {{instructionRef}}, "RequestId": "{{Guid.NewGuid():N}}"}""";
await client.PublishAsync(new MqttApplicationMessageBuilder()
    .WithTopic(Topics.Device(deviceId, DeviceTopicKind.Trigger))
    .WithPayload(Encoding.UTF8.GetBytes(payload))
    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
    .Build());

var result = await ack.Task.WaitAsync(TimeSpan.FromSeconds(10));
Console.WriteLine($"ID {result.Id}: {result.Status} (CommandRef {result.CommandRef}, OrderRef {result.OrderRef?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})");
await client.DisconnectAsync();
return result.IsSuccess ? 0 : 1;
