using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway;
using Pantri.Iot.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>Finding 2: before login nothing was bounded. A silent TCP connection was kept for MQTTnet's 100 s; the
/// connection cap was above the open-file limit; nothing limited one source address.</summary>
[Category("Integration")]
public sealed class PreLoginLimitsTests
{
    [Test]
    public async Task A_silent_connection_is_closed_after_the_connect_timeout()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:ConnectTimeout=00:00:01"]);
        using var silent = await RawSockets.OpenAsync(gateway.MqttPort);
        var started = Stopwatch.StartNew();

        var closed = await RawSockets.IsClosedWithinAsync(silent, TimeSpan.FromSeconds(4));

        Assert.That(closed, Is.True, "the connection was still open after 4 s");
        Assert.That(started.Elapsed, Is.GreaterThan(TimeSpan.FromMilliseconds(800)), "closed before the timeout");
    }

    [Test]
    public async Task A_connect_that_never_completes_is_closed_after_the_connect_timeout()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:ConnectTimeout=00:00:01"]);
        using var slow = await RawSockets.OpenAsync(gateway.MqttPort);

        // A CONNECT fixed header announcing 40 bytes, then only three of them: the slow-loris way to hold a socket.
        await slow.SendAsync(new byte[] { 0x10, 40, 0x00, 0x04, (byte)'M' }, SocketFlags.None);

        Assert.That(await RawSockets.IsClosedWithinAsync(slow, TimeSpan.FromSeconds(4)), Is.True);
    }

    [Test]
    public async Task A_first_packet_that_is_not_connect_closes_the_connection_at_once()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var socket = await RawSockets.OpenAsync(gateway.MqttPort);

        await socket.SendAsync(new byte[] { 0xC0, 0x00 }, SocketFlags.None); // PINGREQ before CONNECT

        Assert.That(await RawSockets.IsClosedWithinAsync(socket, TimeSpan.FromSeconds(1)), Is.True);
    }

    [Test]
    public async Task A_device_that_connected_in_time_is_not_cut_off_by_the_connect_timeout()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:ConnectTimeout=00:00:01"]);
        await using var button = await gateway.ConnectButtonAsync();

        await Task.Delay(1500);
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    [Test]
    public async Task Connections_beyond_the_per_address_cap_are_closed_at_accept_and_other_addresses_are_not_affected()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:MaxConnectionsPerAddress=3"]);
        var attacker = RawSockets.Loopback(2);
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await RawSockets.OpenAsync(gateway.MqttPort, attacker));
            }

            using var fourth = await RawSockets.OpenAsync(gateway.MqttPort, attacker);
            Assert.That(await RawSockets.IsClosedWithinAsync(fourth, TimeSpan.FromSeconds(1)), Is.True, "the 4th connection from one address was kept");
            Assert.That(await RawSockets.IsClosedWithinAsync(held[0], TimeSpan.FromMilliseconds(200)), Is.False, "a connection within the cap was closed");

            await using var button = await gateway.ConnectButtonAsync(); // from 127.0.0.1
            Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).Id, Is.EqualTo(AckIds.OrderPlaced));

            // A closed connection frees its place.
            held[0].Dispose();
            held.RemoveAt(0);
            await Task.Delay(200);
            using var again = await RawSockets.OpenAsync(gateway.MqttPort, attacker);
            Assert.That(await RawSockets.IsClosedWithinAsync(again, TimeSpan.FromMilliseconds(300)), Is.False, "the freed place was not given back");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public async Task The_connection_cap_is_clamped_below_the_open_file_limit_and_logged()
    {
        var log = new CapturedLog();
        await using var gateway = await TestGateway.StartAsync(
            ["--Pantri:Mqtt:MaxConnections=10000000", "--Serilog:MinimumLevel:Default=Information"],
            b => b.Services.AddSingleton<ILogEventSink>(log));
        var openFiles = SoftOpenFileLimit();

        var started = log.EventsWithId(2001).Single();
        var cap = Convert.ToInt64(((ScalarValue)started.Properties["MaxConnections"]).Value, CultureInfo.InvariantCulture);

        TestContext.Out.WriteLine($"open-file limit {openFiles}, effective MQTT connection cap {cap}");
        Assert.That(cap, Is.LessThan(openFiles));
        Assert.That(cap, Is.GreaterThan(openFiles / 2), "the reserve for files and HTTP should not eat most of the limit");
    }

    [Test]
    public async Task A_second_gateway_on_the_same_mqtt_port_fails_to_start_naming_the_port()
    {
        await using var first = await TestGateway.StartAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        var second = GatewayHost.Build(
        [
            $"--Pantri:DataDirectory={dataDirectory}",
            $"--Pantri:Mqtt:Port={first.MqttPort}",
            "--Pantri:Mqtt:BindAddress=127.0.0.1",
            "--urls=http://127.0.0.1:0",
            "--Serilog:MinimumLevel:Default=Fatal",
        ]);
        try
        {
            var failure = Assert.CatchAsync(async () => await second.StartAsync());
            Assert.That(failure!.ToString(), Does.Contain(first.MqttPort.ToString(CultureInfo.InvariantCulture)));
            Assert.That(failure.ToString(), Does.Contain("in use"));
        }
        finally
        {
            await second.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static long SoftOpenFileLimit()
    {
        var line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return long.Parse(line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }
}
