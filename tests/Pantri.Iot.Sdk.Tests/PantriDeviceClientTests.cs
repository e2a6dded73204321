using System.Net.Http.Json;

namespace Pantri.Iot.Sdk.Tests;

/// <summary>The SDK's commands against a real gateway (embedded broker on a free port, LiteDB in a temp directory).</summary>
[Category("Integration")]
public sealed class PantriDeviceClientTests
{
    private TestGateway _gateway = null!;
    private SdkTestKit _kit = null!;

    [SetUp]
    public async Task StartGateway()
    {
        _gateway = await GatewayLogs.StartAsync();
        _kit = new SdkTestKit();
    }

    [TearDown]
    public async Task StopGateway()
    {
        await _kit.DisposeAsync();
        _kit.Logger.AssertNeverLogged(_gateway.Demo.ButtonKey);
        _kit.Logger.AssertNeverLogged(_gateway.Demo.JarKey);
        await _gateway.DisposeAsync();
    }

    [TestCase(PantriProtocolVersion.Mqtt5)]
    [TestCase(PantriProtocolVersion.Mqtt311)]
    public async Task A_press_gets_201_with_its_order_and_a_second_press_409_naming_it(PantriProtocolVersion version)
    {
        var button = _kit.Client(SdkTestKit.Button(_gateway, version));
        await button.ConnectAsync();

        var first = await button.TriggerReorderAsync(DemoCredentials.ButtonRef);
        var second = await button.TriggerReorderAsync(DemoCredentials.ButtonRef);

        Assert.Multiple(() =>
        {
            Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced), first.Status);
            Assert.That(first.IsSuccess, Is.True);
            Assert.That(first.OrderRef, Is.Not.Null);
            Assert.That(first.CommandRef, Is.Positive);
            Assert.That(first.InstructionRef, Is.EqualTo(DemoCredentials.ButtonRef));
            Assert.That(first.RequestId, Is.Not.Empty, "the SDK sends a RequestId with every command");
            Assert.That(second.Id, Is.EqualTo(AckIds.Conflict));
            Assert.That(second.OrderRef, Is.EqualTo(first.OrderRef));
            Assert.That(second.CommandRef, Is.Not.EqualTo(first.CommandRef));
            Assert.That(button.PendingCommands, Is.Zero);
        });
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_press_without_an_instruction_orders_the_devices_only_paired_instruction()
    {
        var button = _kit.Client(SdkTestKit.Button(_gateway));

        var ack = await button.TriggerReorderAsync();

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        Assert.That(ack.InstructionRef, Is.EqualTo(DemoCredentials.ButtonRef));
    }

    [Test]
    public async Task The_same_RequestId_again_replays_the_first_ack_and_orders_nothing_more()
    {
        var button = _kit.Client(SdkTestKit.Button(_gateway));

        var first = await button.TriggerReorderAsync(DemoCredentials.ButtonRef, requestId: "press-1");
        var again = await button.TriggerReorderAsync(DemoCredentials.ButtonRef, requestId: "press-1");

        Assert.Multiple(() =>
        {
            Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced));
            Assert.That(again.Id, Is.EqualTo(AckIds.OrderPlaced));
            Assert.That(again.CommandRef, Is.EqualTo(first.CommandRef));
            Assert.That(again.Replayed, Is.True);
        });
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [TestCase(PantriProtocolVersion.Mqtt5)]
    [TestCase(PantriProtocolVersion.Mqtt311)]
    public async Task Level_and_usage_reports_get_200_and_201_when_the_trigger_point_is_reached(PantriProtocolVersion version)
    {
        var jar = _kit.Client(SdkTestKit.Jar(_gateway, version));

        var level = await jar.ReportLevelAsync(DemoCredentials.JarRef, 7);
        var usage = await jar.ReportUsageAsync(DemoCredentials.JarRef);
        var low = await jar.ReportUsageAsync(DemoCredentials.JarRef, used: 1);

        Assert.Multiple(() =>
        {
            Assert.That(level.Id, Is.EqualTo(AckIds.Recorded), level.Status);
            Assert.That(level.Level, Is.EqualTo(7));
            Assert.That(level.ReorderAt, Is.EqualTo(5));
            Assert.That(level.Armed, Is.True);
            Assert.That(level.Forecast, Is.Not.Null);
            Assert.That(usage.Id, Is.EqualTo(AckIds.Recorded), usage.Status);
            Assert.That(usage.Level, Is.EqualTo(6));
            Assert.That(low.Id, Is.EqualTo(AckIds.OrderPlaced), low.Status);
            Assert.That(low.Level, Is.EqualTo(5));
            Assert.That(low.OrderRef, Is.Not.Null);
            Assert.That(low.Armed, Is.False);
        });
    }

    [Test]
    public async Task An_error_ack_is_returned_not_thrown_and_does_not_block_the_queue()
    {
        var button = _kit.Client(SdkTestKit.Button(_gateway));

        var unknown = await button.TriggerReorderAsync(424242);
        var next = await button.TriggerReorderAsync(DemoCredentials.ButtonRef);

        Assert.Multiple(() =>
        {
            Assert.That(unknown.IsSuccess, Is.False);
            Assert.That(unknown.Id, Is.AnyOf(AckIds.NotPaired, AckIds.UnknownInstruction));
            Assert.That(unknown.Status, Does.StartWith("Didn't do - "));
            Assert.That(next.Id, Is.EqualTo(AckIds.OrderPlaced));
        });
    }

    [Test]
    public async Task Order_changes_arrive_on_WatchOrdersAsync_and_the_event()
    {
        var button = _kit.Client(SdkTestKit.Button(_gateway));
        var fromEvent = new List<OrderStatus>();
        button.OrderStatusChanged += (_, e) =>
        {
            lock (fromEvent)
            {
                fromEvent.Add(e.Status);
            }
        };
        await button.ConnectAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var watched = new List<OrderStatus>();
        var watch = Task.Run(async () =>
        {
            await foreach (var order in button.WatchOrdersAsync(cancel.Token))
            {
                watched.Add(order);
                if (order.State == "Cancelled")
                {
                    return;
                }
            }
        });
        await Task.Delay(100); // the watcher is registered

        var ack = await button.TriggerReorderAsync(DemoCredentials.ButtonRef);
        using var http = _gateway.Http(_gateway.Demo.UserAuth);
        var cancelled = await http.PostAsJsonAsync($"/v1/orders/{ack.OrderRef}/state", new { State = "Cancelled" });
        Assert.That(cancelled.IsSuccessStatusCode, Is.True, await cancelled.Content.ReadAsStringAsync());
        await watch;

        Assert.That(watched.Select(o => o.State), Is.EqualTo(new[] { "Placed", "Cancelled" }));
        Assert.That(watched.Select(o => o.OrderRef), Is.All.EqualTo(ack.OrderRef));
        Assert.That(await Eventually.TrueAsync(() => { lock (fromEvent) { return fromEvent.Count == 2; } }, TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public void Commands_check_their_arguments_before_anything_is_queued()
    {
        var jar = _kit.Client(SdkTestKit.Jar(_gateway));

        Assert.Multiple(() =>
        {
            Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => jar.ReportLevelAsync(DemoCredentials.JarRef, double.NaN));
            Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => jar.ReportLevelAsync(DemoCredentials.JarRef, -1));
            Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => jar.ReportUsageAsync(0));
            Assert.ThrowsAsync<ArgumentException>(() => jar.TriggerReorderAsync(requestId: new string('x', RequestIds.MaxLength + 1)));
            Assert.ThrowsAsync<ArgumentException>(() => jar.TriggerReorderAsync(requestId: ""));
        });
        Assert.That(jar.PendingCommands, Is.Zero);
    }

    [Test]
    public void Options_without_a_valid_DeviceId_or_key_are_refused_with_the_reasons()
    {
        var options = SdkTestKit.Button(_gateway);
        options.DeviceId = "demo-button\n";
        options.DeviceKey = "";

        var error = Assert.Throws<ArgumentException>(() => _ = new PantriDeviceClient(options));

        Assert.That(error!.Message, Does.Contain("DeviceKey"));
        options.DeviceKey = "k";
        error = Assert.Throws<ArgumentException>(() => _ = new PantriDeviceClient(options));
        Assert.That(error!.Message, Does.Contain("DeviceId"));
    }

    [Test]
    public void A_TLS_CA_file_that_cannot_be_read_is_refused_when_the_client_is_created()
    {
        var options = SdkTestKit.Button(_gateway);
        options.UseTls = true;
        options.TlsCaCertificatePath = Path.Combine(_kit.Directory, "missing-ca.pem");

        var error = Assert.Throws<ArgumentException>(() => _ = new PantriDeviceClient(options));

        Assert.That(error!.Message, Does.Contain("TlsCaCertificatePath"));
    }

    [Test]
    public void Options_print_without_the_key()
    {
        var options = SdkTestKit.Button(_gateway);

        Assert.That(options.ToString(), Does.Contain("demo-button").And.Not.Contain(options.DeviceKey));
    }
}
