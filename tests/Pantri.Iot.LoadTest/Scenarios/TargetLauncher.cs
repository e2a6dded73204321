using Pantri.Iot.LoadTest.Targets;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Starts the targets a scenario compares: F (provisioned once per run), E, and M when Mosquitto is
/// installed; or only a running gateway given by <c>--host/--port/--credentials</c>.</summary>
public sealed class TargetLauncher
{
    private readonly string _workDirectory;
    private readonly string? _host;
    private readonly int _port;
    private readonly string? _credentialsFile;
    private string? _gatewayData;
    private IReadOnlyList<DeviceCredential> _gatewayDevices = [];
    private readonly int _ordersPerDevice;

    /// <summary>Reads <c>--targets</c>, <c>--host</c>, <c>--port</c>, <c>--credentials</c>.</summary>
    public TargetLauncher(HarnessArgs args, string workDirectory)
    {
        ArgumentNullException.ThrowIfNull(args);
        _workDirectory = workDirectory;
        _host = args.Optional("host");
        _port = args.Int("port", 1883);
        _credentialsFile = args.Optional("credentials");
        _ordersPerDevice = args.Int("orders-per-device", 0);
        var names = args.Names("targets", _host is null ? "F,E,M" : "F");
        if (names.Contains("M") && !BenchTarget.MosquittoAvailable)
        {
            Console.WriteLine($"Mosquitto not found at {BenchTarget.MosquittoPath}: baseline M skipped (apt-get install mosquitto).");
            names = names.Where(n => n != "M").ToList();
        }

        Names = names;
    }

    /// <summary>Targets to run, in order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>F's data directory, once <see cref="PrepareGatewayAsync"/> made it.</summary>
    public string? GatewayData => _gatewayData;

    /// <summary>Creates a gateway data directory with <paramref name="deviceCount"/> devices (F only; once per run).</summary>
    public async Task PrepareGatewayAsync(int deviceCount, CancellationToken cancellationToken)
    {
        if (_host is not null || !Names.Contains("F") || _gatewayDevices.Count >= deviceCount)
        {
            return;
        }

        _gatewayData = Path.Combine(_workDirectory, "f-data");
        if (Directory.Exists(_gatewayData))
        {
            Directory.Delete(_gatewayData, recursive: true);
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using (var gateway = await InProcessGateway.StartAsync(_gatewayData, 0, cancellationToken).ConfigureAwait(false))
        {
            _gatewayDevices = await gateway.ProvisionAsync(deviceCount, "bench", cancellationToken, _ordersPerDevice).ConfigureAwait(false);
        }

        await DeviceCredential.WriteFileAsync(Path.Combine(_workDirectory, "credentials.json"), _gatewayDevices, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"provisioned {deviceCount} devices in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s ({_gatewayData})");
    }

    /// <summary>Starts target <paramref name="name"/> with logins for <paramref name="deviceCount"/> devices.</summary>
    public async Task<BenchTarget> StartAsync(string name, int deviceCount, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case "F" when _host is not null:
                var devices = _credentialsFile is null ? throw new ArgumentException("--host needs --credentials FILE") : await DeviceCredential.ReadFileAsync(_credentialsFile, cancellationToken).ConfigureAwait(false);
                return BenchTarget.Remote(_host, _port, Take(devices, deviceCount));
            case "F":
                await PrepareGatewayAsync(deviceCount, cancellationToken).ConfigureAwait(false);
                return await BenchTarget.StartGatewayAsync(_gatewayData!, Take(_gatewayDevices, deviceCount), cancellationToken).ConfigureAwait(false);
            case "E":
                return await BenchTarget.StartEchoAsync(deviceCount, cancellationToken).ConfigureAwait(false);
            case "M":
                return await BenchTarget.StartMosquittoAsync(deviceCount, _workDirectory, cancellationToken).ConfigureAwait(false);
            default:
                throw new ArgumentException($"unknown target {name} (F, E, M)");
        }
    }

    private static List<DeviceCredential> Take(IReadOnlyList<DeviceCredential> devices, int count) =>
        devices.Count >= count ? devices.Take(count).ToList() : throw new ArgumentException($"{count} devices wanted, {devices.Count} available");
}
