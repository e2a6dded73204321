// Shows: an IoT button press as firmware does it — connect with the device's own credentials, subscribe to its ack
// topic, publish one trigger with a RequestId, print the acknowledgement.
// Run: dotnet run --project samples/DemoButton -- [path/to/demo-household.json] [host] [port]
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;

var file = args.Length > 0 ? args[0] : Path.Combine("data", DemoHouseholdFile.FileName);
var host = args.Length > 1 ? args[1] : "127.0.0.1";
var port = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1883;

var button = DemoHouseholdFile.Read(file).Device("demo-button");
var deviceId = button.DeviceId;

using var client = new MqttClientFactory().CreateMqttClient();
var ack = new TaskCompletionSource<Acknowledgement>();
client.ApplicationMessageReceivedAsync += e =>
{
    ack.TrySetResult(ContractJson.DeserializeAcknowledgement(e.ApplicationMessage.Payload.FirstSpan)!);
    return Task.CompletedTask;
};

await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(deviceId).WithCredentials(deviceId, button.DeviceKey).Build());
await client.SubscribeAsync(Topics.Device(deviceId, DeviceTopicKind.Ack), MqttQualityOfServiceLevel.AtLeastOnce);

// A RequestId makes the press safe to resend: a retry after a lost ack replays the same CommandRef.
await client.PublishAsync(new MqttApplicationMessageBuilder()
    .WithTopic(Topics.Device(deviceId, DeviceTopicKind.Trigger))
    .WithPayload(RequestPayloads.Trigger(button.InstructionRef, requestId: Guid.NewGuid().ToString("N")))
    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
    .Build());

var result = await ack.Task.WaitAsync(TimeSpan.FromSeconds(10));
Console.WriteLine($"ID {result.Id}: {result.Status} (CommandRef {result.CommandRef}, OrderRef {result.OrderRef?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})");
await client.DisconnectAsync();
return result.IsSuccess ? 0 : 1;
