using System.Diagnostics;
using System.Globalization;

namespace Pantri.Iot.Sdk.Tests.Samples;

/// <summary>The C firmware sample (libmosquitto, MQTT 3.1.1), built with -Wall -Werror, against a real gateway.</summary>
[Category("Integration")]
public sealed class FirmwareTests
{
    private static readonly Lazy<string> Binary = new(Build);

    private TestGateway _gateway = null!;

    [SetUp]
    public async Task StartGateway()
    {
        _gateway = await GatewayLogs.StartAsync();
        _gateway.KeepMqttPortOnRestart = true;
    }

    [TearDown]
    public async Task StopGateway() => await _gateway.DisposeAsync();

    private SampleProcess Run(string key, int presses) => SampleProcess.Start(Binary.Value, Path.GetTempPath(),
        ["-h", "127.0.0.1", "-p", _gateway.MqttPort.ToString(CultureInfo.InvariantCulture), "-i", DemoCredentials.Button, "-k", key,
         "-r", DemoCredentials.ButtonRef.ToString(CultureInfo.InvariantCulture), "-n", presses.ToString(CultureInfo.InvariantCulture), "-t", "20"]);

    [Test]
    public async Task A_press_from_the_C_firmware_gets_201_and_a_second_409()
    {
        using var firmware = Run(_gateway.Demo.ButtonKey, presses: 2);

        Assert.That(await firmware.WaitForExitAsync(), Is.Zero, firmware.Output);
        var acks = firmware.Lines.Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).ToList();
        Assert.That(acks, Has.Count.EqualTo(2), firmware.Output);
        Assert.That(acks[0], Does.Contain(" ID 201 "));
        Assert.That(acks[1], Does.Contain(" ID 409 "));
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task The_C_firmware_keeps_its_press_and_RequestId_across_reconnects_until_the_gateway_acks_it()
    {
        await _gateway.StopAsync();
        using var firmware = Run(_gateway.Demo.ButtonKey, presses: 1);
        var press = (await firmware.WaitForLinesAsync(l => l.StartsWith("press ", StringComparison.Ordinal))).Single();
        await firmware.WaitForLinesAsync(l => l.Contains("connect failed", StringComparison.Ordinal), count: 2);

        await _gateway.StartAsync();

        Assert.That(await firmware.WaitForExitAsync(), Is.Zero, firmware.Output);
        var requestId = press.Split(' ')[1];
        Assert.That(firmware.Lines, Has.Some.StartWith($"ack {requestId} ID 201 "));
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_wrong_key_stops_the_C_firmware_instead_of_retrying()
    {
        using var firmware = Run("not-the-key", presses: 1);

        Assert.That(await firmware.WaitForExitAsync(seconds: 10), Is.EqualTo(3), firmware.Output);
        Assert.That(firmware.Output, Does.Contain("bad user name or password"));
    }

    /// <summary>make -C samples/firmware (incremental; warnings are errors). scripts/test.sh installs libmosquitto-dev.</summary>
    private static string Build()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pantri.Iot.sln")))
        {
            directory = directory.Parent;
        }

        var firmware = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("repository root not found"), "samples", "firmware");
        var make = Process.Start(new ProcessStartInfo("make", ["-C", firmware]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = make.StandardOutput.ReadToEnd() + make.StandardError.ReadToEnd();
        make.WaitForExit();
        if (make.ExitCode != 0)
        {
            throw new InvalidOperationException($"make -C {firmware} failed (is libmosquitto-dev installed? scripts/test.sh installs it):{Environment.NewLine}{output}");
        }

        return Path.Combine(firmware, "build", "pantri_button");
    }
}
