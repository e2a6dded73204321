using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>The "must show": with 1,000 silent TCP connections open and a flood of wrong-key logins against
/// it, a real device still connects and gets its ack within a second, and the gateway's memory stays bounded. The
/// gateway runs in its own process so its RSS is its own.</summary>
[Category("Integration")]
public sealed class SilentConnectionsAndLoginFloodTests
{
    private const int SilentConnections = 1_000;
    private const int FloodAttempts = 2_000;
    private const int FloodTasks = 4;

    /// <param name="addressPerAttempt">False: each flooding task has one address (the throttle soon refuses it without a
    /// key check). True: every attempt comes from its own address (127.1.x.y), as from a botnet, so none is throttled
    /// and every one costs a key check.</param>
    [TestCase(false, TestName = "A device connects and gets its ack within a second under 1,000 silent connections and a login flood from four addresses")]
    [TestCase(true, TestName = "A device connects and gets its ack within a second under 1,000 silent connections and a login flood from 2,000 addresses")]
    public async Task A_device_connects_and_gets_its_ack_within_a_second_while_the_gateway_is_under_attack(bool addressPerAttempt)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        var gateway = await GatewayProcess.StartAsync(dataDirectory);
        var demo = DemoCredentials.Read(dataDirectory);
        var silent = new List<Socket>();
        try
        {
            // Warm up (JIT, first command) so that "before" is the gateway at rest, not at start.
            var warm = await PressAsync(gateway.MqttPort, demo.ButtonKey, "warm-up");
            Assert.That(warm.Ack.Id, Is.EqualTo(AckIds.OrderPlaced));
            await Task.Delay(500);
            var before = gateway.ResidentKiB();

            // 1,000 silent connections from four addresses (250 each, below the per-address cap).
            for (var i = 0; i < SilentConnections; i++)
            {
                silent.Add(await RawSockets.OpenAsync(gateway.MqttPort, RawSockets.Loopback((byte)(2 + i % 4))));
            }

            // 2,000 wrong-key logins from four tasks, each from its own address, half guessing the button's key.
            var refused = new int[FloodTasks];
            var throttled = new int[FloodTasks];
            var floodWatch = Stopwatch.StartNew();
            var flood = Enumerable.Range(0, FloodTasks).Select(t => Task.Run(async () =>
            {
                for (var i = 0; i < FloodAttempts / FloodTasks; i++)
                {
                    var source = addressPerAttempt ? new IPAddress([127, (byte)(1 + t), (byte)(i / 250), (byte)(i % 250 + 1)]) : RawSockets.Loopback((byte)(10 + t));
                    var clientId = i % 2 == 0 ? DemoCredentials.Button : $"guess-{t}-{i}";
                    var code = await TryConnectFromAsync(gateway.MqttPort, source, clientId, $"wrong-{i}");
                    refused[t] += code != MqttClientConnectResultCode.Success ? 1 : 0;
                    throttled[t] += code == MqttClientConnectResultCode.ConnectionRateExceeded ? 1 : 0;
                }
            })).ToArray();

            await Task.Delay(300); // the flood is on
            var during = gateway.ResidentKiB();
            var press = await PressAsync(gateway.MqttPort, demo.ButtonKey, "under-attack");
            await Task.WhenAll(flood);
            var floodTime = floodWatch.Elapsed;
            var afterFlood = gateway.ResidentKiB();
            var stillOpen = await CountOpenAsync(silent, TimeSpan.FromMilliseconds(50));

            // The CONNECT timeout (5 s by default) closes the silent connections by itself.
            var closedWithin = TimeSpan.FromSeconds(7);
            var closed = await Task.WhenAll(silent.Select(s => RawSockets.IsClosedWithinAsync(s, closedWithin)));
            await Task.Delay(500);
            var afterClose = gateway.ResidentKiB();

            TestContext.Out.WriteLine($"device connect+subscribe+press+ack under attack: {press.Elapsed.TotalMilliseconds:F0} ms (ack {press.Ack.Id})");
            TestContext.Out.WriteLine($"flood: {FloodAttempts} wrong-key logins in {floodTime.TotalMilliseconds:F0} ms, {refused.Sum()} refused, {throttled.Sum()} of them throttled (0x9F) without a key check");
            TestContext.Out.WriteLine($"silent connections still open after the flood: {stillOpen}/{SilentConnections}; closed by the CONNECT timeout within {closedWithin.TotalSeconds} s: {closed.Count(c => c)}");
            TestContext.Out.WriteLine($"gateway RSS: before {before / 1024.0:F1} MiB, during {during / 1024.0:F1} MiB, after the flood {afterFlood / 1024.0:F1} MiB, after the silent connections closed {afterClose / 1024.0:F1} MiB");

            Assert.Multiple(() =>
            {
                Assert.That(press.Ack.Id, Is.EqualTo(AckIds.Conflict), "the press reached the ledger (the warm-up order is still open)");
                Assert.That(press.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
                Assert.That(refused.Sum(), Is.EqualTo(FloodAttempts), "no guess got in");
                Assert.That(stillOpen, Is.EqualTo(SilentConnections), "the silent connections were held during the attack");
                Assert.That(closed.Count(c => c), Is.EqualTo(SilentConnections), "the CONNECT timeout closes every silent connection");
                Assert.That(Math.Max(afterFlood, during) - before, Is.LessThan(150 * 1024), "memory under attack grew by more than 150 MiB");
            });
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
            gateway.Dispose();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<(Acknowledgement Ack, TimeSpan Elapsed)> PressAsync(int port, string key, string requestId)
    {
        var watch = Stopwatch.StartNew();
        await using var button = await TestDevice.ConnectAsync(port, DemoCredentials.Button, key);
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, System.Text.Encoding.UTF8.GetString(RequestPayloads.Trigger(DemoCredentials.ButtonRef, requestId)));
        return (ack, watch.Elapsed);
    }

    private static async Task<MqttClientConnectResultCode> TryConnectFromAsync(int port, IPAddress source, string clientId, string key)
    {
        var options = new MqttClientOptionsBuilder()
            .WithEndPoint(new IPEndPoint(IPAddress.Loopback, port))
            .WithClientId(clientId)
            .WithCredentials(clientId, key)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).LocalEndpoint = new IPEndPoint(source, 0);
        return await TestDevice.TryConnectAsync(options);
    }

    private static async Task<int> CountOpenAsync(List<Socket> sockets, TimeSpan quiet)
    {
        var closed = await Task.WhenAll(sockets.Select(s => RawSockets.IsClosedWithinAsync(s, quiet)));
        return closed.Count(c => !c);
    }
}
