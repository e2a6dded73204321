using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Testing;

/// <summary>The gateway as a separate OS process, for tests that kill it the hard way. Disposing it fails the test
/// when the process logged an error (an <c>ERR</c> or <c>FTL</c> line) the test did not declare with
/// <see cref="ExpectLoggedErrors"/>.</summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConsoleLogErrors _loggedErrors = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private GatewayProcess(Process process, string dataDirectory, int mqttPort, int httpPort)
    {
        _process = process;
        DataDirectory = dataDirectory;
        MqttPort = mqttPort;
        HttpBase = new Uri($"http://127.0.0.1:{httpPort}");
    }

    public string DataDirectory { get; }

    /// <summary>Every line the process wrote to stdout so far.</summary>
    public IReadOnlyList<string> OutputLines => [.. _output];

    public int MqttPort { get; }

    /// <summary>The gateway's OS process id (for <c>/proc/{id}/status</c>).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The process's resident set size now, in KiB (VmRSS of <c>/proc/{id}/status</c>).</summary>
    public long ResidentKiB()
    {
        var line = File.ReadLines($"/proc/{ProcessId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public Uri HttpBase { get; }

    public static async Task<GatewayProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var mqttPort = FreePort();
        var httpPort = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Pantri.Iot.Gateway.dll"));
        info.ArgumentList.Add($"--Pantri:DataDirectory={dataDirectory}");
        info.ArgumentList.Add($"--Pantri:Mqtt:Port={mqttPort}");
        info.ArgumentList.Add("--Pantri:Mqtt:BindAddress=127.0.0.1");
        info.ArgumentList.Add($"--urls=http://127.0.0.1:{httpPort}");
        // As in TestGateway: orders stay Placed unless a test turns dispatch on (later arguments win).
        info.ArgumentList.Add("--Pantri:Retail:Enabled=false");
        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var gateway = new GatewayProcess(process, dataDirectory, mqttPort, httpPort);
        process.OutputDataReceived += (_, e) =>
        {
            gateway._loggedErrors.Add(e.Data);
            if (e.Data is not null)
            {
                gateway._output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        using var http = new HttpClient { BaseAddress = gateway.HttpBase };
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode && File.Exists(Path.Combine(dataDirectory, "demo-household.json")))
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited)
            {
                process.WaitForExit(); // the output is read to its end
                var why = $"The gateway exited with {process.ExitCode}{gateway.TakeLoggedErrors()}";
                gateway.Dispose();
                throw new InvalidOperationException(why);
            }

            await Task.Delay(100);
        }

        gateway.Kill();
        var slow = $"The gateway did not start{gateway.TakeLoggedErrors()}";
        gateway.Dispose();
        throw new TimeoutException(slow);
    }

    /// <summary>Declares errors this test provokes on purpose: logged entries (message and exception type and
    /// message) containing <paramref name="messageFragment"/> do not fail it.</summary>
    public void ExpectLoggedErrors(string messageFragment) => _loggedErrors.Expect(messageFragment);

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>The exit code, once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM, as systemd, Docker or Kubernetes stop a service: the host shuts down gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit on its own; false when it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Kills the process if it still runs, then fails the test if it logged an error nobody declared expected.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.WaitForExit(); // the output is read to its end
        _process.Dispose();
        var unexpected = _loggedErrors.TakeUnexpected();
        if (unexpected.Count > 0)
        {
            LoggedErrors.Report(LoggedErrors.Describe("The gateway process", unexpected));
        }
    }

    /// <summary>What the process logged at Error or above, for the message of a failed start.</summary>
    private string TakeLoggedErrors()
    {
        var errors = _loggedErrors.TakeUnexpected();
        return errors.Count == 0 ? "" : "; it logged:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
