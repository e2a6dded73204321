using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>A target server in its own process, so its memory is its own: /proc/&lt;pid&gt;/status gives VmRSS, and a
/// harness-hosted child answers "stats" on stdin with its GC heap after a full collection.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _stats = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith(ServeCommand.StatsPrefix, StringComparison.Ordinal))
            {
                _stats.Add(line);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                Console.Error.WriteLine($"[{_process.Id}] {e.Data}");
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Its process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts this harness again as <c>serve-…</c> child, with the runtime settings the gateway ships with (the
    /// harness itself runs workstation GC so the clients do not take a heap per core).</summary>
    public static ChildProcess StartHarness(params string[] arguments)
    {
        var dll = typeof(ChildProcess).Assembly.Location;
        return Start("dotnet", [dll, .. arguments], gatewayGc: true);
    }

    /// <summary>Starts an executable; with <paramref name="gatewayGc"/>, under the gateway's GC settings.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, bool gatewayGc = false)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (gatewayGc)
        {
            // A variable set for the harness itself wins, so a setting can be tried without rebuilding the gateway.
            foreach (var (name, value) in GatewayGcEnvironment.Value.Where(v => Environment.GetEnvironmentVariable(v.Key) is null))
            {
                info.Environment[name] = value;
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}"));
    }

    /// <summary>The GC and thread-pool settings of the gateway's runtimeconfig.json (copied next to the harness with the
    /// gateway) as the DOTNET_ variables that give another process the same: the targets are measured with the runtime
    /// settings the product ships, whatever the harness's own are.</summary>
    internal static readonly Lazy<IReadOnlyDictionary<string, string>> GatewayGcEnvironment = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Pantri.Iot.Gateway.runtimeconfig.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var properties = json.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var p) ? p : default;
        string? Read(string name) => properties.ValueKind == System.Text.Json.JsonValueKind.Object && properties.TryGetProperty(name, out var v)
            ? v.ValueKind switch { System.Text.Json.JsonValueKind.True => "1", System.Text.Json.JsonValueKind.False => "0", _ => v.ToString() }
            : null;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Unset means the runtime's defaults: workstation, concurrent.
            ["DOTNET_gcServer"] = Read("System.GC.Server") ?? "0",
            ["DOTNET_gcConcurrent"] = Read("System.GC.Concurrent") ?? "1",
        };
        // DOTNET_ variables holding numbers are read as hexadecimal by the runtime.
        foreach (var (setting, variable) in new[] { ("System.GC.ConserveMemory", "DOTNET_GCConserveMemory"), ("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"), ("System.Threading.ThreadPool.MinThreads", "DOTNET_ThreadPool_ForceMinWorkerThreads") })
        {
            if (Read(setting) is { } value)
            {
                environment[variable] = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return environment;
    });

    /// <summary>A free TCP port on loopback (bound and released; a tiny race we accept).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until <paramref name="port"/> accepts a connection.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"child {_process.Id} exited with {_process.ExitCode} before listening");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Resident set size from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Asks a harness-hosted child for its GC heap after a full blocking collection.</summary>
    public long? GcHeapBytes(TimeSpan timeout)
    {
        _process.StandardInput.WriteLine(ServeCommand.StatsCommand);
        _process.StandardInput.Flush();
        return _stats.TryTake(out var line, timeout) ? long.Parse(line[ServeCommand.StatsPrefix.Length..], CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Kills it at once (SIGKILL) and waits for it to be gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Asks it to stop (stdin closed) and waits; kills it if it does not.</summary>
    public void Stop(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        _process.StandardInput.Close();
        if (!_process.WaitForExit(timeout))
        {
            Kill();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
        _stats.Dispose();
    }
}
