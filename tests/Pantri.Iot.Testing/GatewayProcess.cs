using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Testing;

/// <summary>The gateway as a separate OS process, for tests that kill it the hard way.</summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, string dataDirectory, int mqttPort, int httpPort)
    {
        _process = process;
        DataDirectory = dataDirectory;
        MqttPort = mqttPort;
        HttpBase = new Uri($"http://127.0.0.1:{httpPort}");
    }

    public string DataDirectory { get; }

    public int MqttPort { get; }

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
        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, dataDirectory, mqttPort, httpPort);
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
                throw new InvalidOperationException($"The gateway exited with {process.ExitCode}");
            }

            await Task.Delay(100);
        }

        gateway.Dispose();
        throw new TimeoutException("The gateway did not start");
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
