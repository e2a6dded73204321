using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Domain;
using Pantri.Iot.Broker;
using Pantri.Iot.Gateway;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>The real gateway (GatewayHost) in this process on loopback: for provisioning, for reading its storage
/// after a run, and for the smoke test.</summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    /// <summary>The account every simulated device belongs to.</summary>
    public const string Account = "bench";

    private readonly WebApplication _app;

    private InProcessGateway(WebApplication app) => _app = app;

    /// <summary>The MQTT port.</summary>
    public int Port => _app.Services.GetRequiredService<EmbeddedMqttServer>().Port;

    /// <summary>The gateway's storage.</summary>
    public IGatewayStore Store => _app.Services.GetRequiredService<IGatewayStore>();

    /// <summary>The arguments a benchmark gateway runs with: loopback only, no demo data, no per-device rate limit
    /// (the harness offers the load on purpose), no per-address connection cap (the fleet shares a few loopback source
    /// addresses, <see cref="Load.DeviceFleet.SourceAddress"/>), quiet logs.</summary>
    public static string[] Arguments(string dataDirectory, int mqttPort) =>
    [
        "--Pantri:DataDirectory=" + dataDirectory,
        "--Pantri:Mqtt:Port=" + mqttPort.ToString(CultureInfo.InvariantCulture),
        "--Pantri:Mqtt:BindAddress=127.0.0.1",
        "--urls=http://127.0.0.1:0",
        "--Pantri:CommandsPerSecond=1000000",
        "--Pantri:CommandBurst=1000000",
        "--Pantri:Mqtt:MaxConnectionsPerAddress=10000000",
        "--Pantri:CreateDemoHousehold=false",
        "--Serilog:MinimumLevel:Default=Warning",
    ];

    /// <summary>Starts a gateway on <paramref name="dataDirectory"/>; <paramref name="mqttPort"/> 0 picks a free port.</summary>
    public static async Task<InProcessGateway> StartAsync(string dataDirectory, int mqttPort, CancellationToken cancellationToken, params string[] extraArguments)
    {
        var app = GatewayHost.Build([.. Arguments(dataDirectory, mqttPort), .. extraArguments]);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new InProcessGateway(app);
    }

    /// <summary>Creates <paramref name="count"/> devices, each paired with its own tracked instruction (level 50,
    /// trigger point 2: a level report of 12 is recorded without ordering; the first trigger orders).</summary>
    /// <remarks>With <paramref name="ordersPerDevice"/>, each device also gets that many untracked instructions, one per
    /// order-placing trigger.</remarks>
    public async Task<IReadOnlyList<DeviceCredential>> ProvisionAsync(int count, string prefix, CancellationToken cancellationToken, int ordersPerDevice = 0)
    {
        var setup = _app.Services.GetRequiredService<SetupService>();
        // The benchmark's household (a second provisioning run finds it there: 409).
        await setup.RunAsync(new CreateHousehold(Account, "Benchmark", null), cancellationToken).ConfigureAwait(false);
        var result = new DeviceCredential[count];
        const int chunk = 2000;
        for (var from = 0; from < count; from += chunk)
        {
            var names = Enumerable.Range(from, Math.Min(chunk, count - from)).Select(i => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D6}")).ToList();
            var devices = await Task.WhenAll(names.Select(name => setup.CreateDeviceAsync(Account, name, cancellationToken))).ConfigureAwait(false);
            var ids = devices.Select((d, i) => d.Value?.DeviceId ?? throw new InvalidOperationException($"creating {names[i]} failed: {d.Error}")).ToList();
            var instructions = await Task.WhenAll(ids.Select(id => setup.CreateInstructionAsync(Account, new NewInstruction
            {
                Product = "Benchmark beans",
                Retailer = "Bench",
                Quantity = 1,
                DeviceIds = [id],
                Tracking = new TrackingSettings { ReorderAt = 2, Level = 50 },
            }, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < ids.Count; i++)
            {
                var device = devices[i].Value ?? throw new InvalidOperationException($"creating {ids[i]} failed: {devices[i].Error}");
                var instruction = instructions[i].Value ?? throw new InvalidOperationException($"pairing {ids[i]} failed: {instructions[i].Error}");
                result[from + i] = new DeviceCredential(device.DeviceId, device.DeviceKey, instruction.InstructionRef)
                {
                    OrderInstructionRefs = await CreateOrderInstructionsAsync(setup, ids[i], ordersPerDevice, cancellationToken).ConfigureAwait(false),
                };
            }
        }

        return result;
    }

    private static async Task<IReadOnlyList<long>> CreateOrderInstructionsAsync(SetupService setup, string deviceId, int count, CancellationToken cancellationToken)
    {
        var created = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => setup.CreateInstructionAsync(Account, new NewInstruction
        {
            Product = "Benchmark order",
            Retailer = "Bench",
            Quantity = 1,
            DeviceIds = [deviceId],
        }, cancellationToken))).ConfigureAwait(false);
        return created.Select(c => c.Value?.InstructionRef ?? throw new InvalidOperationException($"pairing {deviceId} failed: {c.Error}")).ToList();
    }

    /// <summary>How many of <paramref name="commandRefs"/> are not in storage.</summary>
    public int CountMissing(IEnumerable<long> commandRefs) => commandRefs.Count(r => Store.FindCommandByRef(r) is null);

    /// <summary>The number of orders; instructions with two orders open at once (a duplicate: the 409 rule lets an
    /// instruction be ordered again only once its order has closed); and instructions ordered again after their order
    /// closed (legitimate: a run longer than a device's instructions presses some again after the sandbox delivered).</summary>
    public (int Orders, int InstructionsWithDuplicates, int InstructionsReordered) CountOrders()
    {
        var orders = Store.FindOrders(Account, int.MaxValue);
        var duplicates = 0;
        var reordered = 0;
        foreach (var group in orders.GroupBy(o => o.InstructionRef).Where(g => g.Count() > 1))
        {
            var inOrder = group.OrderBy(o => o.CreatedAt).ThenBy(o => o.Ref).ToList();
            var overlap = inOrder.Zip(inOrder.Skip(1)).Any(pair => !(ClosedAt(pair.First) <= pair.Second.CreatedAt));
            if (overlap)
            {
                duplicates++;
            }
            else
            {
                reordered++;
            }
        }

        return (orders.Count, duplicates, reordered);
    }

    private static DateTimeOffset? ClosedAt(Order order) =>
        order.History.Where(t => !OrderLifecycle.IsOpen(t.State)).Select(t => (DateTimeOffset?)t.At).FirstOrDefault();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
