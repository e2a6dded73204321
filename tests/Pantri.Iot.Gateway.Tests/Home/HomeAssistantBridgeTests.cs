using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.LoadTest.Targets;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>The Home Assistant bridge against a real Mosquitto standing in for Home Assistant's broker: a level report
/// and a press make the discovery configs and states appear, retained, shaped as Home Assistant's MQTT discovery
/// documents them (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery, sensor.mqtt).</summary>
[Category("Integration")]
public sealed partial class HomeAssistantBridgeTests
{
    [Test]
    public async Task A_level_report_and_a_press_appear_on_the_household_broker_as_discovered_sensors_with_their_states()
    {
        using var mosquitto = StartMosquitto(out var port);
        await using var gateway = await TestGateway.StartAsync(BridgeArgs(port, "demo"));
        await using var jar = await gateway.ConnectJarAsync();
        await using var button = await gateway.ConnectButtonAsync();

        var level = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": 9}""");
        var press = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "ha-1"}""");
        Assert.That(level.Id, Is.EqualTo(AckIds.Recorded));
        Assert.That(press.Id, Is.EqualTo(AckIds.OrderPlaced));

        // A late subscriber, as Home Assistant after its own restart: everything is retained.
        var seen = await RetainedAsync(port, ["homeassistant/#", "pantri/#"], received =>
            received.TryGetValue($"pantri/{DemoCredentials.JarRef}/inventory", out var inventory) && inventory.Contains("\"level\":9", StringComparison.Ordinal)
            && received.TryGetValue($"pantri/{DemoCredentials.ButtonRef}/order", out var order) && order.Contains("\"state\":\"Placed\"", StringComparison.Ordinal));

        var jarRef = DemoCredentials.JarRef.ToString(CultureInfo.InvariantCulture);
        var buttonRef = DemoCredentials.ButtonRef.ToString(CultureInfo.InvariantCulture);
        Assert.That(seen.Keys, Is.SupersetOf(new[]
        {
            $"homeassistant/sensor/pantri/{jarRef}_level/config",
            $"homeassistant/sensor/pantri/{jarRef}_usage_per_day/config",
            $"homeassistant/sensor/pantri/{jarRef}_days_to_reorder/config",
            $"homeassistant/sensor/pantri/{jarRef}_order/config",
            $"homeassistant/sensor/pantri/{buttonRef}_order/config",
        }));
        Assert.That(seen["pantri/status"], Is.EqualTo("online"));
        foreach (var (topic, payload) in seen.Where(s => s.Key.StartsWith("homeassistant/", StringComparison.Ordinal)))
        {
            AssertDiscoverySchema(topic, payload, seen);
        }

        using var levelConfig = JsonDocument.Parse(seen[$"homeassistant/sensor/pantri/{jarRef}_level/config"]);
        Assert.That(levelConfig.RootElement.GetProperty("unit_of_measurement").GetString(), Is.EqualTo("count"), "the jar's unit");
        using var app = gateway.Http(gateway.Demo.UserAuth);
        using var instructions = JsonDocument.Parse(await app.GetStringAsync("/v1/instructions"));
        var product = instructions.RootElement.EnumerateArray().Single(i => i.GetProperty(FieldNames.InstructionRef).GetInt64() == DemoCredentials.JarRef).GetProperty("Product").GetString();
        Assert.That(levelConfig.RootElement.GetProperty("device").GetProperty("name").GetString(), Is.EqualTo(product), "the device is named after the product");
        using var jarOrder = JsonDocument.Parse(seen[$"pantri/{jarRef}/order"]);
        Assert.That(jarOrder.RootElement.GetProperty("state").GetString(), Is.EqualTo("None"), "no order for the jar yet");
        using var orderState = JsonDocument.Parse(seen[$"pantri/{buttonRef}/order"]);
        Assert.That(orderState.RootElement.GetProperty("order_ref").GetInt64(), Is.EqualTo(press.OrderRef));
        using var orderConfig = JsonDocument.Parse(seen[$"homeassistant/sensor/pantri/{buttonRef}_order/config"]);
        Assert.That(orderConfig.RootElement.GetProperty("options").EnumerateArray().Select(o => o.GetString()), Does.Contain("Placed").And.Contain("None"));
    }

    [Test]
    public async Task Another_households_bridge_publishes_nothing_of_the_demo_household()
    {
        using var mosquitto = StartMosquitto(out var port);
        await using var gateway = await TestGateway.StartAsync(BridgeArgs(port, "another-household"));
        await using var jar = await gateway.ConnectJarAsync();

        var level = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": 8}""");
        var seen = await RetainedAsync(port, ["#"], received => received.ContainsKey("pantri/status"));
        await Task.Delay(500);
        seen = await RetainedAsync(port, ["#"], received => received.ContainsKey("pantri/status"));

        Assert.That(level.Id, Is.EqualTo(AckIds.Recorded));
        Assert.That(seen.Keys, Is.EquivalentTo(new[] { "pantri/status" }), "only the bridge's availability");
    }

    [Test]
    public async Task After_the_household_broker_restarts_empty_the_bridge_publishes_its_configs_and_states_again()
    {
        var mosquitto = StartMosquitto(out var port);
        try
        {
            await using var gateway = await TestGateway.StartAsync(BridgeArgs(port, "demo"));
            await using var jar = await gateway.ConnectJarAsync();
            await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": 7}""");
            var inventory = $"pantri/{DemoCredentials.JarRef}/inventory";
            await RetainedAsync(port, ["pantri/#"], received => received.TryGetValue(inventory, out var state) && state.Contains("\"level\":7", StringComparison.Ordinal));

            // Home Assistant's broker restarts without persistence: every retained message is gone.
            mosquitto.Kill();
            mosquitto.Dispose();
            mosquitto = StartMosquitto(out _, port);
            var seen = await RetainedAsync(port, ["homeassistant/#", "pantri/#"], received =>
                received.ContainsKey($"homeassistant/sensor/pantri/{DemoCredentials.JarRef}_level/config")
                && received.TryGetValue(inventory, out var state) && state.Contains("\"level\":7", StringComparison.Ordinal)
                && received.GetValueOrDefault("pantri/status") == "online", TimeSpan.FromSeconds(30));

            Assert.That(seen.Keys.Count(k => k.StartsWith("homeassistant/sensor/pantri/", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(4));
        }
        finally
        {
            mosquitto.Dispose();
        }
    }

    private static string[] BridgeArgs(int port, string accountId) =>
    [
        "--Pantri:HomeAssistant:Enabled=true",
        "--Pantri:HomeAssistant:Host=127.0.0.1",
        $"--Pantri:HomeAssistant:Port={port}",
        $"--Pantri:HomeAssistant:AccountId={accountId}",
    ];

    /// <summary>What Home Assistant requires of a sensor's discovery message, and what ours promise.</summary>
    private static void AssertDiscoverySchema(string topic, string payload, Dictionary<string, string> seen)
    {
        var match = DiscoveryTopic().Match(topic);
        Assert.That(match.Success, Is.True, $"{topic}: <discovery_prefix>/sensor/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]");
        using var config = JsonDocument.Parse(payload);
        var root = config.RootElement;
        var uniqueId = root.GetProperty("unique_id").GetString();
        Assert.That(uniqueId, Is.EqualTo($"{match.Groups["node"].Value}_{match.Groups["object"].Value}"), "unique per sensor, stable");
        Assert.That(root.GetProperty("name").GetString(), Is.Not.Empty);
        var stateTopic = root.GetProperty("state_topic").GetString()!;
        Assert.That(seen.ContainsKey(stateTopic), Is.True, $"{topic}: its state_topic {stateTopic} has a retained state");
        var key = ValueKey().Match(root.GetProperty("value_template").GetString()!).Groups[1].Value;
        using (var state = JsonDocument.Parse(seen[stateTopic]))
        {
            Assert.That(state.RootElement.TryGetProperty(key, out _), Is.True, $"{topic}: value_template reads '{key}' of the state");
        }

        Assert.That(root.GetProperty("availability_topic").GetString(), Is.EqualTo("pantri/status"));
        Assert.That(root.GetProperty("payload_available").GetString(), Is.EqualTo("online"));
        Assert.That(root.GetProperty("payload_not_available").GetString(), Is.EqualTo("offline"));
        var device = root.GetProperty("device");
        Assert.That(device.GetProperty("identifiers").GetArrayLength(), Is.GreaterThan(0), "a device needs identifiers (or connections)");
        Assert.That(device.GetProperty("name").GetString(), Is.Not.Empty);
        if (root.TryGetProperty("device_class", out var deviceClass) && deviceClass.GetString() == "enum")
        {
            Assert.That(root.TryGetProperty("unit_of_measurement", out _), Is.False, "an enum sensor has no unit");
            Assert.That(root.TryGetProperty("state_class", out _), Is.False, "an enum sensor has no state class");
            Assert.That(root.GetProperty("options").GetArrayLength(), Is.GreaterThan(0));
        }
        else
        {
            Assert.That(root.GetProperty("state_class").GetString(), Is.EqualTo("measurement"));
            Assert.That(root.GetProperty("unit_of_measurement").GetString(), Is.Not.Empty);
        }
    }

    /// <summary>Subscribes as a new client and collects the retained messages until <paramref name="done"/> holds
    /// (at most 10 s).</summary>
    private static async Task<Dictionary<string, string>> RetainedAsync(int port, string[] filters, Func<IReadOnlyDictionary<string, string>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)))
        {
            var received = new ConcurrentDictionary<string, string>();
            using var client = new MqttClientFactory().CreateMqttClient();
            client.ApplicationMessageReceivedAsync += e =>
            {
                if (e.ApplicationMessage.Retain)
                {
                    received[e.ApplicationMessage.Topic] = Encoding.UTF8.GetString(e.ApplicationMessage.Payload);
                }

                return Task.CompletedTask;
            };
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("ha-test-" + Guid.NewGuid().ToString("N")).Build());
            var subscribe = new MqttClientSubscribeOptionsBuilder();
            foreach (var filter in filters)
            {
                subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            await client.SubscribeAsync(subscribe.Build());
            await Task.Delay(200);
            await client.DisconnectAsync();
            var snapshot = new Dictionary<string, string>(received);
            if (done(snapshot))
            {
                return snapshot;
            }
        }

        throw new TimeoutException($"the expected retained messages did not appear within {timeout ?? TimeSpan.FromSeconds(10)}");
    }

    private static ChildProcess StartMosquitto(out int port, int? samePort = null)
    {
        port = samePort ?? ChildProcess.FreePort();
        var config = Path.Combine(Path.GetTempPath(), $"pantri-ha-mosquitto-{port}.conf");
        File.WriteAllText(config, $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_type error\n");
        var process = ChildProcess.Start(BenchTarget.MosquittoPath, ["-c", config]);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect("127.0.0.1", port);
                File.Delete(config); // read at start
                return process;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }

        process.Dispose();
        File.Delete(config);
        throw new TimeoutException("mosquitto did not listen");
    }

    [GeneratedRegex(@"\Ahomeassistant/sensor/(?<node>[a-zA-Z0-9_-]+)/(?<object>[a-zA-Z0-9_-]+)/config\z")]
    private static partial Regex DiscoveryTopic();

    [GeneratedRegex(@"\{\{ value_json\.([a-z_]+) \}\}")]
    private static partial Regex ValueKey();
}
