using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>The money path under a bad day: the gateway is killed with SIGKILL at random moments under load, again and
/// again, and restarted on the same data directory. Devices press in a loop and retry every press whose ack they did not
/// see with the same RequestId; meanwhile the household cancels open orders, so a retry processed twice would place a
/// second order. At the end: every acknowledged command is stored, no RequestId was processed twice, no press made two
/// orders, and no instruction has two open orders.</summary>
[Category("Integration")]
public sealed class KillLoopTests
{
    private const int Kills = 12;
    private const int Devices = 6;

    [Test]
    public async Task Twelve_SIGKILLs_under_load_lose_no_acknowledged_command_and_double_no_order()
    {
        var seed = Environment.TickCount;
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var dir = Path.Combine(Path.GetTempPath(), "pantri-killloop-" + Guid.NewGuid().ToString("N"));
        string[] args = ["--Pantri:CommandsPerSecond=1000000", "--Pantri:CommandBurst=1000000"];
        List<PressingDevice> devices = null!;
        string userAuth = null!;
        for (var round = 0; round < Kills; round++)
        {
            using var gateway = await GatewayProcess.StartAsync(dir, args);
            if (round == 0)
            {
                userAuth = DemoCredentials.Read(dir).UserAuth;
                devices = await PressingDevice.CreateAsync(gateway.HttpBase, userAuth, Devices);
            }

            using var stop = new CancellationTokenSource();
            var pressing = devices.Select(d => d.PressAsync(gateway.MqttPort, stop.Token)).ToList();
            var cancelling = CancelOpenOrdersAsync(gateway.HttpBase, userAuth, stop.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(250, 900)));
            gateway.Kill();
            await stop.CancelAsync();
            await Task.WhenAll([.. pressing, cancelling]).WaitAsync(TimeSpan.FromSeconds(10));
        }

        var acks = devices.SelectMany(d => d.Acks.Select(a => (Device: d, Ack: a))).ToList();
        using var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db"));
        var keys = store.RecentCommandKeys(DateTimeOffset.UnixEpoch, 1_000_000);
        var orders = store.FindOrders("demo", 100_000);
        try
        {
            TestContext.Out.WriteLine($"{acks.Count} acks, {keys.Count} commands, {orders.Count} orders, {acks.Count(a => a.Ack.Replayed == true)} replays");
            Assert.That(acks.Count(a => a.Ack.Id == AckIds.OrderPlaced), Is.GreaterThan(Kills), "orders were placed in most rounds");
            Assert.That(acks.Any(a => a.Ack.Replayed == true), Is.True, "some retries were answered from storage");
            Assert.Multiple(() =>
            {
                foreach (var (device, ack) in acks)
                {
                    var stored = store.FindCommandByRef(ack.CommandRef);
                    Assert.That(stored?.IdempotencyKey, Is.EqualTo(device.DeviceId + "\n" + ack.RequestId), $"acked command {ack.CommandRef} ({ack.RequestId}) is stored");
                }

                foreach (var group in acks.GroupBy(a => a.Ack.RequestId))
                {
                    Assert.That(group.Select(a => a.Ack.CommandRef).Distinct().Count(), Is.EqualTo(1), $"every ack of {group.Key} names the same command");
                }

                Assert.That(keys.GroupBy(k => k.Key).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty, "no RequestId was processed twice");
                var placedBy = orders.Select(o => store.FindCommandByRef(o.CommandRef)?.IdempotencyKey).ToList();
                Assert.That(placedBy, Has.None.Null, "every order was placed by a stored command");
                Assert.That(placedBy.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty, "no press placed two orders");
                Assert.That(orders.Where(o => o.IsOpen).GroupBy(o => o.InstructionRef).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty, "no instruction has two open orders");
            });
        }
        finally
        {
            store.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    // The household cancels open orders as they come, so the next press orders again: a retry processed twice would show
    // as a second order.
    private static async Task CancelOpenOrdersAsync(Uri httpBase, string userAuth, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = httpBase, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Add("User_Auth", userAuth);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var orders = await http.GetFromJsonAsync<JsonElement>("/v1/orders", stop);
                foreach (var order in orders.EnumerateArray().Where(o => o.GetProperty("State").GetString() == "Placed"))
                {
                    await http.PostAsJsonAsync($"/v1/orders/{order.GetProperty("OrderRef").GetInt64()}/state", new { State = "Cancelled" }, stop);
                }

                await Task.Delay(50, stop);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or OperationCanceledException)
        {
            // Killed (mid-response, too), or the round is over.
        }
    }
}
