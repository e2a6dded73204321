using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Testing;

/// <summary>Debian's Mosquitto 2 run with the repository's shipped <c>mosquitto.conf</c>, changed only where a test
/// must: the listener's port (a free one, loopback), the dynamic security file and the persistence directory (a
/// temporary directory). The dynamic security file is made as the README says, with <c>mosquitto_ctrl dynsec init</c>,
/// for the gateway's user <see cref="GatewayUser"/>. Disposing stops the broker and deletes the directory.</summary>
public sealed class MosquittoBroker : IDisposable
{
    /// <summary>Where Debian installs the broker.</summary>
    public const string BrokerPath = "/usr/sbin/mosquitto";

    /// <summary>The gateway's user, created by <c>dynsec init</c> (the plugin's admin role).</summary>
    public const string GatewayUser = "pantri-gateway";

    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private MosquittoBroker(Process process, string directory, int port, string gatewayPassword)
    {
        _process = process;
        Directory = directory;
        Port = port;
        GatewayPassword = gatewayPassword;
    }

    /// <summary>The temporary directory holding the config, the dynamic security file and persistence.</summary>
    public string Directory { get; }

    /// <summary>The MQTT port (loopback).</summary>
    public int Port { get; }

    /// <summary>The gateway user's password.</summary>
    public string GatewayPassword { get; }

    /// <summary>What the broker printed so far.</summary>
    public IReadOnlyList<string> OutputLines => [.. _output];

    /// <summary>The repository's top-level mosquitto.conf, found from the test's output directory upwards.</summary>
    public static string ShippedConfigPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "mosquitto.conf");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Pantri.Iot.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("the repository's mosquitto.conf was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Starts the broker and returns once it accepts TCP connections.</summary>
    public static async Task<MosquittoBroker> StartAsync()
    {
        if (!File.Exists(BrokerPath))
        {
            Assert.Fail($"{BrokerPath} is missing: scripts/test.sh installs Debian's mosquitto");
        }

        var directory = Path.Combine(Path.GetTempPath(), "pantri-mosquitto-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var port = FreePort();
        var password = "gw-" + Guid.NewGuid().ToString("N");
        var dynsec = Path.Combine(directory, "dynamic-security.json");
        await RunAsync("mosquitto_ctrl", "dynsec", "init", dynsec, GatewayUser, password);

        // Only what a test must change: the rest of the shipped file runs as is.
        var config = File.ReadAllLines(ShippedConfigPath()).Select(line => line switch
        {
            "listener 1883" => $"listener {port} 127.0.0.1",
            _ when line.StartsWith("plugin_opt_config_file ", StringComparison.Ordinal) => "plugin_opt_config_file " + dynsec,
            _ when line.StartsWith("persistence_location ", StringComparison.Ordinal) => "persistence_location " + directory + "/",
            _ => line,
        }).ToList();
        Assert.That(config, Does.Contain($"listener {port} 127.0.0.1"), "the shipped mosquitto.conf has no 'listener 1883' line to override");
        var configPath = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllLinesAsync(configPath, config);

        var info = new ProcessStartInfo(BrokerPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(configPath);
        var process = Process.Start(info)!;
        var broker = new MosquittoBroker(process, directory, port, password);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { broker._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { broker._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await broker.WaitForPortAsync();
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    /// <summary>Runs a Mosquitto command-line client (<c>mosquitto_sub</c>, <c>mosquitto_pub</c>, <c>mosquitto_rr</c>)
    /// against this broker; returns its exit code and everything it printed. Killed after <paramref name="timeout"/>.</summary>
    public async Task<(int ExitCode, string Output)> RunClientAsync(string client, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(client) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-h");
        info.ArgumentList.Add("127.0.0.1");
        info.ArgumentList.Add("-p");
        info.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        }
    }

    private async Task WaitForPortAsync()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (_process.HasExited)
            {
                Assert.Fail("mosquitto exited at start:\n" + string.Join('\n', _output));
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        Assert.Fail("mosquitto did not listen within 5 s:\n" + string.Join('\n', _output));
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
