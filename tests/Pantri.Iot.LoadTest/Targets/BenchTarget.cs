using System.Globalization;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>One system under test on loopback: F (the gateway, in a child process), E (bare MQTTnet echo broker,
/// child process), M (Mosquitto plus an echo client), or a gateway already running elsewhere on this machine.</summary>
public sealed class BenchTarget : IAsyncDisposable
{
    /// <summary>Where Debian installs Mosquitto.</summary>
    public const string MosquittoPath = "/usr/sbin/mosquitto";

    private readonly Func<int, ChildProcess>? _spawn;
    private readonly string? _dataDirectory;
    private ChildProcess? _child;
    private MosquittoEcho? _echo;

    private BenchTarget(string name, int port, IReadOnlyList<DeviceCredential> devices, Func<int, ChildProcess>? spawn, string? dataDirectory)
    {
        Name = name;
        Port = port;
        Devices = devices;
        _spawn = spawn;
        _dataDirectory = dataDirectory;
    }

    /// <summary>F, E or M.</summary>
    public string Name { get; }

    /// <summary>Always loopback.</summary>
    public string Host { get; private init; } = "127.0.0.1";

    /// <summary>MQTT port.</summary>
    public int Port { get; }

    /// <summary>Logins the simulated devices use.</summary>
    public IReadOnlyList<DeviceCredential> Devices { get; }

    /// <summary>True when it holds storage the harness can check afterwards.</summary>
    public bool HasStorage => _dataDirectory is not null;

    /// <summary>True when Mosquitto is installed.</summary>
    public static bool MosquittoAvailable => File.Exists(MosquittoPath);

    /// <summary>The gateway in a child process on <paramref name="dataDirectory"/> (already provisioned).</summary>
    public static Task<BenchTarget> StartGatewayAsync(string dataDirectory, IReadOnlyList<DeviceCredential> devices, CancellationToken cancellationToken) =>
        StartAsync(new BenchTarget("F", ChildProcess.FreePort(), devices, port => ChildProcess.StartHarness("serve-gateway", "--data", dataDirectory, "--port", Invariant(port)), dataDirectory), cancellationToken);

    /// <summary>Baseline E in a child process, with <paramref name="deviceCount"/> made-up logins (it checks none).</summary>
    public static Task<BenchTarget> StartEchoAsync(int deviceCount, CancellationToken cancellationToken) =>
        StartAsync(new BenchTarget("E", ChildProcess.FreePort(), FakeDevices(deviceCount), port => ChildProcess.StartHarness("serve-echo", "--port", Invariant(port)), null), cancellationToken);

    /// <summary>Baseline M: Mosquitto with a minimal loopback config, plus the echo client.</summary>
    public static async Task<BenchTarget> StartMosquittoAsync(int deviceCount, string workDirectory, CancellationToken cancellationToken)
    {
        var config = Path.Combine(workDirectory, "mosquitto.conf");
        var target = new BenchTarget("M", ChildProcess.FreePort(), FakeDevices(deviceCount), port =>
        {
            File.WriteAllText(config, string.Join('\n',
                "listener " + Invariant(port) + " 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "max_queued_messages 100000",
                "max_inflight_messages 0",
                "log_type error",
                "set_tcp_nodelay true",
                string.Empty));
            return ChildProcess.Start(MosquittoPath, ["-c", config]);
        }, null);
        return await StartAsync(target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A gateway someone else started (<c>--host/--port/--credentials</c>).</summary>
    public static BenchTarget Remote(string host, int port, IReadOnlyList<DeviceCredential> devices) =>
        new("F", port, devices, null, null) { Host = host };

    /// <summary>VmRSS of the target process, when it is a child of the harness.</summary>
    public long? ResidentBytes() => _child?.ResidentBytes();

    /// <summary>GC heap after a full collection, when the target is a .NET child of the harness.</summary>
    public long? GcHeapBytes() => Name == "M" ? null : _child?.GcHeapBytes(TimeSpan.FromSeconds(30));

    /// <summary>Kills the target (SIGKILL: nothing is flushed on the way out) and starts it again on the same port
    /// and data; returns once it listens.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        if (_spawn is null)
        {
            throw new InvalidOperationException("a remote target cannot be restarted by the harness");
        }

        await StopEchoAsync().ConfigureAwait(false);
        _child?.Kill();
        _child?.Dispose();
        await LaunchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the target gracefully and starts it again on the same port and data; returns once it listens.</summary>
    public async Task RestartCleanlyAsync(CancellationToken cancellationToken)
    {
        if (_spawn is null)
        {
            throw new InvalidOperationException("a remote target cannot be restarted by the harness");
        }

        await StopAsync().ConfigureAwait(false);
        _child?.Dispose();
        await LaunchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the target gracefully (its storage then closes cleanly for checking).</summary>
    public async Task StopAsync()
    {
        await StopEchoAsync().ConfigureAwait(false);
        _child?.Stop(TimeSpan.FromSeconds(30));
    }

    /// <summary>After <see cref="StopAsync"/>: opens F's storage and counts acked commands missing from it and
    /// instructions with two orders open at once.</summary>
    public async Task<StorageCheck?> CheckStorageAsync(IEnumerable<long> ackedCommandRefs, CancellationToken cancellationToken)
    {
        if (_dataDirectory is null)
        {
            return null;
        }

        var refs = ackedCommandRefs.ToList();
        await using var gateway = await InProcessGateway.StartAsync(_dataDirectory, 0, cancellationToken).ConfigureAwait(false);
        var (orders, duplicates, reordered) = gateway.CountOrders();
        return new StorageCheck(refs.Count, gateway.CountMissing(refs), orders, duplicates, reordered);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopEchoAsync().ConfigureAwait(false);
        _child?.Dispose();
    }

    private static async Task<BenchTarget> StartAsync(BenchTarget target, CancellationToken cancellationToken)
    {
        try
        {
            await target.LaunchAsync(cancellationToken).ConfigureAwait(false);
            return target;
        }
        catch
        {
            await target.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        _child = _spawn!(Port);
        await _child.WaitForPortAsync(Port, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (Name == "M")
        {
            _echo = new MosquittoEcho();
            await _echo.StartAsync(Port, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopEchoAsync()
    {
        if (_echo is not null)
        {
            await _echo.DisposeAsync().ConfigureAwait(false);
            _echo = null;
        }
    }

    private static List<DeviceCredential> FakeDevices(int count) =>
        Enumerable.Range(0, count).Select(i => new DeviceCredential(string.Create(CultureInfo.InvariantCulture, $"bench-{i:D6}"), "unused", i + 1)).ToList();

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
