using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>The published linux-x64 single file (the <c>linux-x64</c> publish profile, self-contained) runs the
/// quickstart on a machine without the .NET runtime's help: start it, press the demo button, 201; SIGTERM stops it
/// with exit code 0. <c>./scripts/test.sh</c> publishes it first and names it in <c>PANTRI_GATEWAY_SINGLE_FILE</c>;
/// without that the test publishes it itself (a minute or so).</summary>
[Category("Integration")]
public sealed class SingleFileTests
{
    public const string Variable = "PANTRI_GATEWAY_SINGLE_FILE";

    [Test]
    public async Task The_linux_x64_single_file_starts_presses_the_demo_button_201_and_stops_on_SIGTERM()
    {
        var work = Directory.CreateTempSubdirectory("pantri-single-file-").FullName;
        Process? gateway = null;
        try
        {
            var binary = await SingleFileAsync(work);
            var mqttPort = FreePort();
            var httpPort = FreePort();
            var info = new ProcessStartInfo(binary) { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])[$"--Pantri:Mqtt:Port={mqttPort}", "--Pantri:Mqtt:BindAddress=127.0.0.1", $"--urls=http://127.0.0.1:{httpPort}", "--Pantri:Retail:Enabled=false"])
            {
                info.ArgumentList.Add(arg);
            }

            var started = Stopwatch.StartNew();
            gateway = Process.Start(info)!;
            var output = gateway.StandardOutput.ReadToEndAsync();
            var errors = gateway.StandardError.ReadToEndAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(2) };
            var ready = false;
            while (!ready && started.Elapsed < TimeSpan.FromSeconds(60) && !gateway.HasExited)
            {
                try
                {
                    ready = (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(50);
                }
            }

            Assert.That(ready, Is.True, "ready within 60 s");
            var readyAfter = started.Elapsed;
            var rss = File.ReadAllLines($"/proc/{gateway.Id}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            await TestContext.Out.WriteLineAsync($"single file: ready after {readyAfter.TotalMilliseconds:F0} ms, {rss}");

            var demo = DemoCredentials.Read(Path.Combine(work, "data"));
            var press = await ExternalProcess.RunAsync("mosquitto_rr",
            [
                "-V", "mqttv311", "-h", "127.0.0.1", "-p", mqttPort.ToString(CultureInfo.InvariantCulture),
                "-i", DemoCredentials.Button, "-u", DemoCredentials.Button, "-P", demo.ButtonKey, "-q", "1",
                "-t", Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger), "-e", Topics.Device(DemoCredentials.Button, DeviceTopicKind.Ack),
                "-m", """{"Instruction_Ref": 123456789, "RequestId": "press-1"}""", "-W", "10",
            ]);
            var dashboard = await http.GetAsync("/ops/");

            Assert.That(press.ExitCode, Is.EqualTo(0), press.Stderr);
            Assert.That(press.Stdout, Does.Contain("\"ID\":201"));
            Assert.That(dashboard.StatusCode, Is.EqualTo(HttpStatusCode.OK), "wwwroot ships next to the single file");

            var term = await ExternalProcess.RunAsync("kill", ["-TERM", gateway.Id.ToString(CultureInfo.InvariantCulture)]);
            Assert.That(term.ExitCode, Is.EqualTo(0));
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await gateway.WaitForExitAsync(exit.Token);
            Assert.That(gateway.ExitCode, Is.EqualTo(0), await errors + await output);
        }
        finally
        {
            if (gateway is { HasExited: false })
            {
                gateway.Kill(entireProcessTree: true);
            }

            gateway?.Dispose();
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> SingleFileAsync(string work)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            Assert.That(File.Exists(given), Is.True, $"{Variable}={given} does not exist");
            return given;
        }

        var project = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(NginxProxy.ShippedConfig()))!, "gateway", "Pantri.Iot.Gateway");
        var output = Path.Combine(work, "publish");
        var publish = await ExternalProcess.RunAsync("dotnet", ["publish", project, "-p:PublishProfile=linux-x64", $"-p:PublishDir={output}/", "-v", "quiet", "-nologo"], TimeSpan.FromMinutes(5));
        Assert.That(publish.ExitCode, Is.EqualTo(0), publish.Stdout + publish.Stderr);
        return Path.Combine(output, "Pantri.Iot.Gateway");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
