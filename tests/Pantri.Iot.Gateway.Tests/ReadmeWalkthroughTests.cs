using System.Diagnostics;
using System.Text.Json;

namespace Pantri.Iot.Gateway.Tests;

/// <summary>The README's setup walk-through, run as a self-hoster would from a fresh data directory: the bash block
/// between <c>&lt;!-- setup-walkthrough --&gt;</c> and its closing fence is taken from README.md as it is and run with
/// bash (command line → token → instruction → pairing code → provisioning with mosquitto_rr → press → order listed),
/// with the built gateway instead of <c>dotnet run</c> and free ports instead of the defaults.</summary>
[Category("Integration")]
public sealed class ReadmeWalkthroughTests
{
    [Test]
    public async Task The_setup_walkthrough_in_the_readme_provisions_a_device_whose_press_orders()
    {
        var script = WalkthroughScript();
        var directory = Path.Combine(Path.GetTempPath(), "pantri-walkthrough-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var (http, mqtt) = (FreePort(), FreePort());
            var info = new ProcessStartInfo("bash") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("-euo");
            info.ArgumentList.Add("pipefail");
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(script);
            info.Environment["PANTRI"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "Pantri.Iot.Gateway.dll");
            info.Environment["HTTP"] = $"http://127.0.0.1:{http}";
            info.Environment["MQTT_PORT"] = mqtt.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
            info.Environment["Pantri__Mqtt__Port"] = mqtt.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["Pantri__Mqtt__BindAddress"] = "127.0.0.1";
            using var bash = Process.Start(info)!;
            var output = bash.StandardOutput.ReadToEndAsync();
            var errors = bash.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await bash.WaitForExitAsync(timeout.Token);
            var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);

            Assert.That(bash.ExitCode, Is.Zero, string.Join('\n', lines) + "\n" + await errors);
            Assert.That(lines[0], Is.EqualTo("smith"), "the household's id");
            Assert.That(lines.Where(l => l.Contains(" ERR]", StringComparison.Ordinal) || l.Contains(" FTL]", StringComparison.Ordinal)), Is.Empty, "the gateway logged no error");
            var provisioned = JsonDocument.Parse(lines.Single(l => l.StartsWith("{\"ID\"", StringComparison.Ordinal))).RootElement;
            var press = JsonDocument.Parse(lines.Single(l => l.StartsWith("{\"CommandRef\"", StringComparison.Ordinal))).RootElement;
            var orders = JsonDocument.Parse(lines.Last(l => l.StartsWith("[{", StringComparison.Ordinal))).RootElement;
            Assert.That(provisioned.GetProperty("ID").GetInt32(), Is.EqualTo(201));
            Assert.That(press.GetProperty("ID").GetInt32(), Is.EqualTo(201), "the press placed an order");
            Assert.That(orders.GetArrayLength(), Is.EqualTo(1));
            Assert.That(orders[0].GetProperty("OrderRef").GetInt64(), Is.EqualTo(press.GetProperty("OrderRef").GetInt64()), "the order is listed");
            Assert.That(orders[0].GetProperty("Instruction_Ref").GetInt64(), Is.EqualTo(provisioned.GetProperty("Instruction_Refs")[0].GetInt64()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string WalkthroughScript()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pantri.Iot.sln")))
        {
            directory = directory.Parent;
        }

        var readme = File.ReadAllText(Path.Combine(directory!.FullName, "README.md"));
        var marker = readme.IndexOf("<!-- setup-walkthrough -->", StringComparison.Ordinal);
        Assert.That(marker, Is.GreaterThan(0), "README.md marks its setup walk-through");
        var start = readme.IndexOf("```bash\n", marker, StringComparison.Ordinal) + "```bash\n".Length;
        var end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..end];
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
