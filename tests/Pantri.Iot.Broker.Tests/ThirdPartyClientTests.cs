using System.Diagnostics;
using System.Globalization;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

/// <summary>Debian's Mosquitto clients speaking MQTT 3.1.1 to the gateway, as firmware would.</summary>
public sealed class ThirdPartyClientTests : GatewayTest
{
    [Test]
    public async Task Mosquitto_rr_over_mqtt311_presses_the_demo_button_and_gets_a_201_ack()
    {
        var output = await RunAsync("mosquitto_rr",
            "-V", "mqttv311", "-h", "127.0.0.1", "-p", Gateway.MqttPort.ToString(CultureInfo.InvariantCulture),
            "-i", "demo-button", "-u", "demo-button", "-P", Gateway.Demo.ButtonKey, "-q", "1",
            "-t", "pantri/v1/devices/demo-button/trigger", "-e", "pantri/v1/devices/demo-button/ack",
            "-m", """{"Instruction_Ref":123456789,"RequestId":"fw-1"}""", "-W", "10");

        var ack = ContractJson.DeserializeAcknowledgement(System.Text.Encoding.UTF8.GetBytes(output.Trim()))!;
        Assert.That(ack.Id, Is.EqualTo(201));
        Assert.That(ack.Status, Is.EqualTo("Done"));
        Assert.That(ack.RequestId, Is.EqualTo("fw-1"));
        Assert.That(Gateway.Store.FindOrder(ack.OrderRef!.Value), Is.Not.Null);
    }

    [Test]
    public async Task Mosquitto_rr_walks_the_demo_jar_to_its_trigger_point()
    {
        var acks = new List<Acknowledgement>();
        for (var i = 0; i < 7; i++)
        {
            var output = await RunAsync("mosquitto_rr",
                "-V", "mqttv311", "-h", "127.0.0.1", "-p", Gateway.MqttPort.ToString(CultureInfo.InvariantCulture),
                "-i", "demo-jar", "-u", "demo-jar", "-P", Gateway.Demo.JarKey, "-q", "1",
                "-t", "pantri/v1/devices/demo-jar/usage", "-e", "pantri/v1/devices/demo-jar/ack",
                "-m", """{"Instruction_Ref":987654321}""", "-W", "10");
            acks.Add(ContractJson.DeserializeAcknowledgement(System.Text.Encoding.UTF8.GetBytes(output.Trim()))!);
        }

        Assert.That(acks.Select(a => a.Id), Is.EqualTo(new[] { 200, 200, 200, 200, 200, 200, 201 }));
        Assert.That(acks[^1].Level, Is.EqualTo(5));
        Assert.That(Gateway.Orders(DemoCredentials.JarRef), Has.Count.EqualTo(1));
    }

    [Test]
    public void Mosquitto_pub_with_a_wrong_key_is_refused()
    {
        Assert.That(async () => await RunAsync("mosquitto_pub",
            "-V", "mqttv311", "-h", "127.0.0.1", "-p", Gateway.MqttPort.ToString(CultureInfo.InvariantCulture),
            "-i", "demo-button", "-u", "demo-button", "-P", "wrong", "-q", "1",
            "-t", "pantri/v1/devices/demo-button/trigger", "-m", "123456789"), Throws.InvalidOperationException.With.Message.Contains("refused"));
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }
}
