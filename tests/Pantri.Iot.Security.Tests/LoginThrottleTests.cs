using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>Finding 5: wrong-key logins were not throttled, and every refusal was one log line. Failures are counted
/// per client id at a source address (5 a minute) and per source address (20 a minute); past either, attempts are
/// refused for <c>LoginBackoff</c> without checking the key. The id is throttled only at the addresses its failures
/// came from, so an attacker guessing a device's id does not lock the device out at its own address.</summary>
[Category("Integration")]
public sealed class LoginThrottleTests
{
    [TestCase(MqttProtocolVersion.V500, MqttClientConnectResultCode.ConnectionRateExceeded)]
    [TestCase(MqttProtocolVersion.V311, MqttClientConnectResultCode.ServerUnavailable)]
    public async Task Five_wrong_keys_for_a_device_id_lock_that_id_at_that_address_but_not_the_device_elsewhere(MqttProtocolVersion version, MqttClientConnectResultCode throttled)
    {
        await using var gateway = await TestGateway.StartAsync();
        var attacker = RawSockets.Loopback(3);

        var guesses = new List<MqttClientConnectResultCode>();
        for (var i = 0; i < 5; i++)
        {
            guesses.Add(await ConnectFromAsync(gateway, attacker, DemoCredentials.Button, $"guess-{i}", version));
        }

        var sixth = await ConnectFromAsync(gateway, attacker, DemoCredentials.Button, gateway.Demo.ButtonKey, version);
        var otherDeviceFromThere = await ConnectFromAsync(gateway, attacker, DemoCredentials.Jar, gateway.Demo.JarKey, version);
        var realDevice = await ConnectFromAsync(gateway, RawSockets.Loopback(4), DemoCredentials.Button, gateway.Demo.ButtonKey, version);

        Assert.Multiple(() =>
        {
            Assert.That(guesses, Is.All.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
            Assert.That(sixth, Is.EqualTo(throttled), "the 6th attempt from the guessing address is refused without checking the key");
            Assert.That(otherDeviceFromThere, Is.EqualTo(MqttClientConnectResultCode.Success), "only that id is throttled there");
            Assert.That(realDevice, Is.EqualTo(MqttClientConnectResultCode.Success), "the real device, elsewhere, is not locked out");
        });
    }

    [Test]
    public async Task Twenty_wrong_logins_from_one_address_lock_the_address_until_the_backoff_ends()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:LoginBackoff=00:00:01"]);
        var attacker = RawSockets.Loopback(5);

        for (var i = 0; i < 20; i++)
        {
            Assert.That(await ConnectFromAsync(gateway, attacker, $"ghost-{i:D3}", "wrong"), Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
        }

        var locked = await ConnectFromAsync(gateway, attacker, DemoCredentials.Jar, gateway.Demo.JarKey);
        var elsewhere = await ConnectFromAsync(gateway, RawSockets.Loopback(6), DemoCredentials.Jar, gateway.Demo.JarKey);
        await Task.Delay(1300);
        var afterBackoff = await ConnectFromAsync(gateway, attacker, DemoCredentials.Jar, gateway.Demo.JarKey);

        Assert.That(locked, Is.EqualTo(MqttClientConnectResultCode.ConnectionRateExceeded));
        Assert.That(elsewhere, Is.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That(afterBackoff, Is.EqualTo(MqttClientConnectResultCode.Success));
    }

    [Test]
    public async Task A_flood_of_refusals_is_logged_a_few_lines_per_reason_not_one_line_each()
    {
        var log = new CapturedLog();
        await using var gateway = await TestGateway.StartAsync(configure: b => b.Services.AddSingleton<ILogEventSink>(log));
        await using var button = await gateway.ConnectButtonAsync();

        for (var i = 0; i < 100; i++)
        {
            await ConnectFromAsync(gateway, RawSockets.Loopback(7), $"ghost-{i:D3}", "wrong");
        }

        for (var i = 0; i < 100; i++)
        {
            await button.PublishRawAsync("pantri/v1/devices/demo-jar/trigger", "987654321");
            await button.SubscribeAsync("pantri/v1/devices/demo-jar/ack");
        }

        var warnings = log.Lines(LogEventLevel.Warning);
        TestContext.Out.WriteLine($"{warnings.Count} warning lines for 300 refusals:{Environment.NewLine}{string.Join(Environment.NewLine, warnings.Take(5))}");
        Assert.That(warnings, Has.Count.LessThanOrEqualTo(40), "100 refused CONNECTs (two reasons: wrong key, then throttled), 100 PUBLISH, 100 SUBSCRIBE");
        Assert.That(warnings, Has.Count.GreaterThanOrEqualTo(4), "refusals are still visible");
    }

    private static async Task<MqttClientConnectResultCode> ConnectFromAsync(TestGateway gateway, IPAddress source, string clientId, string key, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var options = new MqttClientOptionsBuilder()
            .WithEndPoint(new IPEndPoint(IPAddress.Loopback, gateway.MqttPort))
            .WithClientId(clientId)
            .WithCredentials(clientId, key)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).LocalEndpoint = new IPEndPoint(source, 0);
        return await TestDevice.TryConnectAsync(options);
    }
}
