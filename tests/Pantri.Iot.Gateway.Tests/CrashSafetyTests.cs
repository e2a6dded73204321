using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using MQTTnet.Protocol;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

[Category("Integration")]
public sealed class CrashSafetyTests
{
    private const int Instructions = 150;

    [Test]
    public async Task Every_ack_a_device_received_is_stored_even_when_the_gateway_is_killed_with_sigkill()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-kill-" + Guid.NewGuid().ToString("N"));
        var acks = new ConcurrentQueue<Acknowledgement>();
        using (var gateway = await GatewayProcess.StartAsync(dir, "--Pantri:CommandsPerSecond=1000000", "--Pantri:CommandBurst=1000000"))
        {
            var demo = DemoCredentials.Read(dir);
            var refs = await CreateInstructionsAsync(gateway, demo);
            using var client = new MqttClientFactory().CreateMqttClient();
            var enough = new TaskCompletionSource();
            client.ApplicationMessageReceivedAsync += e =>
            {
                acks.Enqueue(ContractJson.DeserializeAcknowledgement(e.ApplicationMessage.Payload.ToArray())!);
                if (acks.Count >= Instructions / 3)
                {
                    enough.TrySetResult();
                }

                return Task.CompletedTask;
            };
            await client.ConnectAsync(TestDevice.Options(gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, demo.ButtonKey));
            await client.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Ack), MqttQualityOfServiceLevel.AtLeastOnce);

            // Fire every press without waiting, then kill the gateway while acks are still streaming back.
            var presses = refs.Select(r => client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger))
                .WithPayload(Encoding.UTF8.GetBytes(r.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build())).ToList();
            await enough.Task.WaitAsync(TimeSpan.FromSeconds(30));
            gateway.Kill();
            await Task.WhenAll(presses.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
        }

        var received = acks.ToList();
        using var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db"));
        Assert.Multiple(() =>
        {
            Assert.That(received, Has.Count.GreaterThanOrEqualTo(Instructions / 3));
            foreach (var ack in received)
            {
                Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
                Assert.That(store.FindCommandByRef(ack.CommandRef), Is.Not.Null, $"command {ack.CommandRef} was acked but not stored");
                Assert.That(store.FindOrder(ack.OrderRef!.Value), Is.Not.Null, $"order {ack.OrderRef} was acked but not stored");
            }
        });
        Directory.Delete(dir, recursive: true);
    }

    private static async Task<List<long>> CreateInstructionsAsync(GatewayProcess gateway, DemoCredentials demo)
    {
        using var http = new HttpClient { BaseAddress = gateway.HttpBase };
        http.DefaultRequestHeaders.Add("User_Auth", demo.UserAuth);
        var refs = new List<long>();
        for (var i = 0; i < Instructions; i++)
        {
            var response = await http.PostAsync("/v1/instructions", TriggerFlowTests.Json($$"""{"Product":"Item {{i}}","Retailer":"shop","DeviceIds":["demo-button"]}"""));
            response.EnsureSuccessStatusCode();
            refs.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64());
        }

        return refs;
    }
}
