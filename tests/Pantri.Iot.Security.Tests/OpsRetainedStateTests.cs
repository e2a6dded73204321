using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Ops;
using Pantri.Iot.Gateway.Retail;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>The retained ops state is the current state: closed orders leave it after the retention (so it does not
/// grow with every order ever placed), and after a restart a dashboard that subscribes sees the whole picture.</summary>
[Category("Integration")]
public sealed class OpsRetainedStateTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    [Test]
    public async Task After_a_restart_a_new_dashboard_gets_the_open_order_the_inventory_and_every_devices_presence()
    {
        await using var gateway = await TestGateway.StartAsync();
        long orderRef;
        await using (var button = await gateway.ConnectButtonAsync())
        await using (var jar = await gateway.ConnectJarAsync())
        {
            orderRef = (await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).OrderRef!.Value;
            var level = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":10,"RequestId":"l1"}""");
            Assert.That(level.Id, Is.EqualTo(AckIds.Recorded));
        }

        await gateway.RestartAsync();
        var retained = await RetainedOps.SnapshotAsync(gateway);

        Assert.That(retained.Keys, Is.SupersetOf(new[]
        {
            Topics.OpsOrder(orderRef), Topics.OpsInventory(DemoCredentials.JarRef),
            Topics.OpsDevice(DemoCredentials.Button), Topics.OpsDevice(DemoCredentials.Jar),
        }), "a dashboard that subscribes after the restart sees what was there before it");
        var order = retained[Topics.OpsOrder(orderRef)];
        var inventory = retained[Topics.OpsInventory(DemoCredentials.JarRef)];
        Assert.Multiple(() =>
        {
            Assert.That(order.GetProperty("State").GetString(), Is.EqualTo("Placed"));
            Assert.That(order.GetProperty("Instruction_Ref").GetInt64(), Is.EqualTo(DemoCredentials.ButtonRef));
            Assert.That(inventory.GetProperty("Level").GetDouble(), Is.EqualTo(10));
            Assert.That(inventory.GetProperty("ReorderAt").GetDouble(), Is.EqualTo(5));
            Assert.That(inventory.GetProperty("Armed").GetBoolean(), Is.True);
            foreach (var device in new[] { DemoCredentials.Button, DemoCredentials.Jar })
            {
                var presence = retained[Topics.OpsDevice(device)];
                Assert.That(presence.GetProperty("Status").GetString(), Is.EqualTo("offline"), device);
                Assert.That(presence.GetProperty("Reason").GetString(), Is.EqualTo("gateway-restarted"), device);
                Assert.That(presence.TryGetProperty("LastSeen", out _), Is.False, "the gateway does not persist when a device was last seen");
            }
        });
    }

    [Test]
    public async Task After_a_restart_a_device_that_connects_shows_online_and_closed_orders_are_not_brought_back()
    {
        await using var gateway = await TestGateway.StartAsync();
        long closedRef;
        await using (var button = await gateway.ConnectButtonAsync())
        {
            using var http = gateway.Http(gateway.Demo.UserAuth);
            closedRef = await PlaceAndCloseAsync(button, http, "c1", "Cancelled");
        }

        await gateway.RestartAsync();
        await using var jar = await gateway.ConnectJarAsync();
        var retained = await RetainedOps.SnapshotAsync(gateway);

        Assert.Multiple(() =>
        {
            Assert.That(retained[Topics.OpsDevice(DemoCredentials.Jar)].GetProperty("Status").GetString(), Is.EqualTo("online"),
                "the rebuilt offline presence was in place before the broker accepted the jar");
            Assert.That(retained[Topics.OpsDevice(DemoCredentials.Button)].GetProperty("Status").GetString(), Is.EqualTo("offline"));
            Assert.That(retained.Keys, Has.No.Member(Topics.OpsOrder(closedRef)));
        });
    }

    [Test]
    public async Task A_closed_order_keeps_its_final_state_until_the_retention_and_is_then_cleared()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartWithFakeTimeAsync(time);
        await using var button = await gateway.ConnectButtonAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);

        var orderRef = await PlaceAndCloseAsync(button, http, "c1", "Cancelled");
        var topic = Topics.OpsOrder(orderRef);
        var final = await RetainedOps.WaitForAsync(gateway, r => r.TryGetValue(topic, out var o) && o.GetProperty("State").GetString() == "Cancelled");
        time.Advance(Retention - TimeSpan.FromSeconds(1));
        var justBefore = await RetainedOps.SnapshotAsync(gateway);
        time.Advance(TimeSpan.FromSeconds(1));
        var after = await RetainedOps.WaitForAsync(gateway, r => !r.ContainsKey(topic));

        Assert.Multiple(() =>
        {
            Assert.That(final, Is.Not.Null, "before the retention a new dashboard sees the final state");
            Assert.That(justBefore.TryGetValue(topic, out var o) ? o.GetProperty("State").GetString() : null, Is.EqualTo("Cancelled"));
            Assert.That(after, Is.Not.Null, $"after the retention the retained {topic} is gone for a new dashboard");
        });
    }

    [Test]
    public async Task Placing_and_closing_many_orders_gives_the_retained_count_back_after_the_retention()
    {
        const int orders = 24;
        string[] closedStates = ["Cancelled", "Delivered", "Rejected"];
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // Delivered and Rejected are the retailer's to report: a signed callback of a configured (not dispatched to) retailer.
        await using var gateway = await StartWithFakeTimeAsync(
            time,
            "--Pantri:Retailers:demo-retailer:Kind=Webhook",
            "--Pantri:Retailers:demo-retailer:Url=http://127.0.0.1:9/orders",
            $"--Pantri:Retailers:demo-retailer:Secret={RetailerSecret}");
        await using var button = await gateway.ConnectButtonAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var before = await RetainedOps.SnapshotAsync(gateway);

        for (var i = 0; i < orders; i++)
        {
            await PlaceAndCloseAsync(button, http, "m" + i, closedStates[i % closedStates.Length]);
        }

        var grown = await RetainedOps.WaitForAsync(gateway, r => OrdersIn(r) == orders && r.Count == before.Count + orders);
        time.Advance(Retention);
        var after = await RetainedOps.WaitForAsync(gateway, r => r.Count == before.Count);

        Assert.Multiple(() =>
        {
            Assert.That(grown, Is.Not.Null, $"{orders} closed orders are retained (final state) during the retention");
            Assert.That(after?.Count, Is.EqualTo(before.Count), "the broker holds as many retained messages as before the orders");
            Assert.That(after is null ? -1 : OrdersIn(after), Is.Zero);
        });
    }

    [Test]
    public async Task Closed_orders_waiting_to_be_cleared_are_bounded_the_oldest_go_first()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartWithFakeTimeAsync(time, "--Pantri:Ops:MaxPendingClears=3");
        await using var button = await gateway.ConnectButtonAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);

        var refs = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            refs.Add(await PlaceAndCloseAsync(button, http, "b" + i, "Cancelled"));
        }

        var bounded = await RetainedOps.WaitForAsync(gateway, r => OrdersIn(r) == 3 && r.ContainsKey(Topics.OpsOrder(refs[^1])));

        Assert.That(bounded?.Keys.Where(t => t.StartsWith(Topics.OpsPrefix + "orders/", StringComparison.Ordinal)),
            Is.EquivalentTo(refs.Skip(3).Select(Topics.OpsOrder)), "without any time passing, only the 3 newest closed orders are still retained");
    }

    [Test]
    public async Task Ten_thousand_devices_are_rebuilt_into_retained_state_at_start()
    {
        const int devices = 10_000;
        const int openOrders = 1_000;
        var dir = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        Seed(Path.Combine(dir, "pantri.db"), devices, openOrders);

        // A dashboard gets each retained message through its session queue: it must hold all of them.
        var start = Stopwatch.StartNew();
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:MaxPendingMessagesPerClient=30000"], dataDirectory: dir);
        var started = start.Elapsed;
        var rebuild = gateway.Services.GetRequiredService<OpsStateRebuild>().LastRebuild;
        var stopwatch = Stopwatch.StartNew();
        var retained = await RetainedOps.SnapshotAsync(gateway);
        TestContext.Out.WriteLine($"gateway started in {started.TotalMilliseconds:F0} ms; rebuild {rebuild}; " +
            $"a new dashboard received {retained.Count} retained messages in {stopwatch.ElapsedMilliseconds} ms");

        Assert.Multiple(() =>
        {
            Assert.That(rebuild, Is.Not.Null);
            Assert.That(rebuild!.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "the rebuild of 10,000 devices takes well under a second");
            Assert.That((rebuild.Devices, rebuild.Inventories, rebuild.OpenOrders), Is.EqualTo((devices, devices, openOrders)));
            Assert.That(retained.Keys.Count(t => t.StartsWith(Topics.OpsPrefix + "devices/", StringComparison.Ordinal)), Is.EqualTo(devices));
            Assert.That(retained.Keys.Count(t => t.StartsWith(Topics.OpsPrefix + "inventory/", StringComparison.Ordinal)), Is.EqualTo(devices));
            Assert.That(OrdersIn(retained), Is.EqualTo(openOrders));
        });
    }

    private const string RetailerSecret = "ops-retained-test-secret-0123456789";

    private static Task<TestGateway> StartWithFakeTimeAsync(FakeTimeProvider time, params string[] args) =>
        TestGateway.StartAsync(
            [$"--Pantri:Ops:ClosedOrderRetention={Retention}", "--Pantri:CommandBurst=1000", .. args],
            builder => builder.Services.AddSingleton<TimeProvider>(time));

    private static async Task<long> PlaceAndCloseAsync(TestDevice button, HttpClient http, string requestId, string closedState)
    {
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":123456789,"RequestId":"{{requestId}}"}""");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        var json = $$"""{"State":"{{closedState}}"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, closedState == "Cancelled" ? $"/v1/orders/{ack.OrderRef}/state" : $"/v1/retailers/demo-retailer/orders/{ack.OrderRef}/status")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (closedState != "Cancelled")
        {
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(RetailerSecret, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes(json)));
        }

        using var response = await http.SendAsync(request);
        Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
        return ack.OrderRef!.Value;
    }

    private static int OrdersIn(IReadOnlyDictionary<string, JsonElement> retained) =>
        retained.Keys.Count(t => t.StartsWith(Topics.OpsPrefix + "orders/", StringComparison.Ordinal));

    /// <summary>A store as a large installation leaves it: <paramref name="devices"/> devices, each with a tracked
    /// instruction and a full usage history, and <paramref name="openOrders"/> of those instructions with an open order.</summary>
    private static void Seed(string path, int devices, int openOrders)
    {
        var at = DateTimeOffset.UtcNow.AddDays(-1);
        var batch = new WriteBatch();
        for (var i = 0; i < devices; i++)
        {
            var deviceId = $"dev-{i:D5}";
            var account = $"acct-{i / 4}";
            var instructionRef = 1_000_000 + i;
            batch.Devices[deviceId] = new Device { DeviceId = deviceId, AccountId = account, KeyHash = "unused", CreatedAt = at };
            batch.Instructions[instructionRef] = new Instruction
            {
                Ref = instructionRef, AccountId = account, Product = "Oat cookies", Retailer = "demo-retailer", DeviceIds = [deviceId],
                // A full forecast window, so the rebuild computes every forecast as it would in a busy installation.
                Tracking = new Tracking
                {
                    Level = 12, ReorderAt = 5, UpdatedAt = at,
                    History = Enumerable.Range(0, Tracking.HistoryLimit).Select(n => new UsageSample { At = at.AddMinutes(n * 10), Used = 1 }).ToList(),
                },
            };
            if (i < openOrders)
            {
                batch.Orders[5_000_000 + i] = new Order
                {
                    Ref = 5_000_000 + i, InstructionRef = instructionRef, AccountId = account, DeviceId = deviceId, Origin = "trigger",
                    CommandRef = 9_000_000 + i, State = OrderState.Placed, Product = "Oat cookies", Retailer = "demo-retailer", Quantity = 1,
                    CreatedAt = at, UpdatedAt = at,
                };
            }
        }

        using var store = new LiteDbGatewayStore(path);
        store.Commit(batch);
    }
}

/// <summary>What a dashboard that subscribes now gets: the broker's retained ops messages.</summary>
internal static class RetainedOps
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(15);

    /// <summary>Connects a fresh ops client, subscribes to <c>pantri/v1/ops/#</c> and returns the retained messages it
    /// receives (topic → JSON), once none has arrived for a moment.</summary>
    public static async Task<IReadOnlyDictionary<string, JsonElement>> SnapshotAsync(TestGateway gateway)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var retained = new ConcurrentDictionary<string, JsonElement>();
        var last = Stopwatch.StartNew();
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Retain && !e.ApplicationMessage.Payload.IsEmpty)
            {
                using var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
                retained[e.ApplicationMessage.Topic] = json.RootElement.Clone();
            }

            last.Restart();
            return Task.CompletedTask;
        };
        var clientId = "ops-snapshot-" + Guid.NewGuid().ToString("N")[..8];
        await client.ConnectAsync(TestDevice.Options(gateway.MqttPort, clientId, TestGateway.OpsUser, TestGateway.OpsPassword));
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.OpsAll, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        last.Restart();
        var total = Stopwatch.StartNew();
        while (last.Elapsed < Quiet && total.Elapsed < Longest)
        {
            await Task.Delay(25);
        }

        await client.DisconnectAsync();
        return new Dictionary<string, JsonElement>(retained);
    }

    /// <summary>Takes snapshots until one satisfies <paramref name="condition"/> (null after a few seconds).</summary>
    public static async Task<IReadOnlyDictionary<string, JsonElement>?> WaitForAsync(TestGateway gateway, Func<IReadOnlyDictionary<string, JsonElement>, bool> condition)
    {
        var total = Stopwatch.StartNew();
        while (total.Elapsed < TimeSpan.FromSeconds(5))
        {
            var snapshot = await SnapshotAsync(gateway);
            if (condition(snapshot))
            {
                return snapshot;
            }
        }

        return null;
    }
}
