using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Storage;

/// <summary>"Acked means stored" through a power cut, not only through a killed process: the gateway runs on a
/// <see cref="PowerCutDisk"/> under load (presses placing orders, level reports), the power is cut at random moments,
/// and each time the files that survive are opened as the gateway opens them at start. Every command a device had
/// its ack for must be there, with its order, and no instruction may hold two open orders.</summary>
[Category("Integration")]
public sealed class PowerCutTests
{
    private const int Instructions = 24;
    private const int Cuts = 6;

    // A commit writes a few pages; a checkpoint many: the cut falls inside either.
    private const int WritesToCutWithin = 40;
    private static readonly TimeSpan LoadTime = TimeSpan.FromSeconds(3);

    [Test]
    public async Task Every_acked_command_and_its_order_survive_a_power_cut_at_random_points_of_a_load_run()
    {
        var seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);

        var disk = new PowerCutDisk(seed);
        var dir = Path.Combine(Path.GetTempPath(), "pantri-powercut-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "pantri.db");
        var acks = new ConcurrentQueue<Acknowledgement>();
        var cuts = new List<(Acknowledgement[] Acked, PowerCutImage Image)>();
        await using (var gateway = await TestGateway.StartAsync(
            ["--Pantri:CommandsPerSecond=1000000", "--Pantri:CommandBurst=1000000"],
            b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(_ => new LiteDbGatewayStore(path, disk.Open))),
            dir))
        {
            var refs = await CreateInstructionsAsync(gateway);
            await using var button = await gateway.ConnectButtonAsync();
            await using var jar = await gateway.ConnectJarAsync();
            using var stop = new CancellationTokenSource();
            var presses = Task.Run(() => LoadAsync(button, i => (DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":{{refs[i % refs.Count]}},"RequestId":"t{{i}}"}"""), acks, stop.Token));
            var reports = Task.Run(() => LoadAsync(jar, i => (DeviceTopicKind.Level, $$"""{"Instruction_Ref":987654321,"Level":{{12 - (i % 10)}},"RequestId":"l{{i}}"}"""), acks, stop.Token));
            for (var i = 0; i < Cuts; i++)
            {
                await Task.Delay(random.Next(50, (int)LoadTime.TotalMilliseconds / Cuts));
                // The acks received when the power goes: every one of them must be in what the cut leaves.
                cuts.Add(await disk.CutDuringWritesAsync(WritesToCutWithin, acks.ToArray).WaitAsync(TimeSpan.FromSeconds(10)));
            }

            await stop.CancelAsync();
            await Task.WhenAll(presses, reports);
        }

        Assert.That(cuts.Last().Acked.Count(a => a.Id == AckIds.OrderPlaced), Is.Positive, "the load placed orders");
        Assert.That(cuts.Last().Acked.Count(a => a.Id == AckIds.Recorded), Is.Positive, "the load recorded level reports");
        Assert.Multiple(() =>
        {
            for (var i = 0; i < cuts.Count; i++)
            {
                VerifyCut(dir, i, cuts[i].Acked, cuts[i].Image);
            }
        });
        Directory.Delete(dir, recursive: true);
    }

    // Opens what survived the way the gateway does at start (file check, then LiteDB over the files).
    private static void VerifyCut(string dir, int index, Acknowledgement[] acked, PowerCutImage image)
    {
        var cutDir = Path.Combine(dir, $"cut-{index}");
        Directory.CreateDirectory(cutDir);
        image.SaveTo(cutDir);
        var path = Path.Combine(cutDir, "pantri.db");
        var what = $"cut {index} ({image}, {acked.Length} acks before it)";
        TestContext.Out.WriteLine(what);
        try
        {
            LiteDbFileCheck.Verify(path, LiteDbGatewayStore.LogPathOf(path));
            using var store = new LiteDbGatewayStore(path);
            var missing = acked.Where(a => store.FindCommandByRef(a.CommandRef) is null).ToList();
            var lostOrders = acked.Where(a => a.Id == AckIds.OrderPlaced && store.FindOrder(a.OrderRef!.Value) is null).ToList();
            var doubled = store.FindOrders(DemoAccount, 100_000).Where(o => o.IsOpen).GroupBy(o => o.InstructionRef).Where(g => g.Count() > 1).ToList();
            Assert.That(missing.Select(a => a.RequestId), Is.Empty, $"{what}: acked commands lost");
            Assert.That(lostOrders.Select(a => a.OrderRef), Is.Empty, $"{what}: acked orders lost");
            Assert.That(doubled.Select(g => g.Key), Is.Empty, $"{what}: instructions with two open orders");
        }
        catch (Exception ex) when (ex is not AssertionException and not MultipleAssertException)
        {
            Assert.Fail($"{what}: the store does not open: {ex.Message}");
        }
    }

    private const string DemoAccount = "demo";

    // One device, one request at a time (the next after the ack), until stopped.
    private static async Task LoadAsync(TestDevice device, Func<int, (DeviceTopicKind Kind, string Payload)> request, ConcurrentQueue<Acknowledgement> acks, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var (kind, payload) = request(i);
            acks.Enqueue(await device.RequestAsync(kind, payload));
        }
    }

    private static async Task<List<long>> CreateInstructionsAsync(TestGateway gateway)
    {
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var refs = new List<long>();
        for (var i = 0; i < Instructions; i++)
        {
            var response = await http.PostAsync("/v1/instructions", TriggerFlowTests.Json($$"""{"Product":"Item {{i.ToString(CultureInfo.InvariantCulture)}}","Retailer":"shop","DeviceIds":["demo-button"]}"""));
            response.EnsureSuccessStatusCode();
            refs.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64());
        }

        return refs;
    }
}
