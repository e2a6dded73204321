namespace Pantri.Iot.Sdk.Tests.Samples;

/// <summary>The samples as a user runs them: separate processes against a real gateway on a free port.</summary>
[Category("Integration")]
public sealed class SampleTests
{
    private TestGateway _gateway = null!;
    private string _workDirectory = null!;

    [SetUp]
    public async Task StartGateway()
    {
        _gateway = await GatewayLogs.StartAsync();
        _gateway.KeepMqttPortOnRestart = true;
        _workDirectory = Path.Combine(Path.GetTempPath(), "pantri-sample-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_workDirectory);
    }

    [TearDown]
    public async Task StopGateway()
    {
        await _gateway.DisposeAsync();
        Directory.Delete(_workDirectory, recursive: true);
    }

    private string Household => Path.Combine(_gateway.DataDirectory, DemoHouseholdFile.FileName);

    private string[] DeviceArgs(string queue) =>
        ["--household", Household, "--port", _gateway.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--queue", Path.Combine(_workDirectory, queue)];

    [Test]
    public async Task IotButton_presses_queued_while_the_gateway_is_down_survive_a_kill_9_and_arrive_exactly_once()
    {
        await _gateway.StopAsync();
        string[] args = [.. DeviceArgs("button.queue"), "--keyboard"];
        List<string> requestIds;
        using (var before = SampleProcess.StartDotnet("IotButton", _workDirectory, args))
        {
            await before.WaitForLinesAsync(l => l.StartsWith("IotButton ", StringComparison.Ordinal));
            before.Type("");
            before.Type("");
            before.Type("");
            var queued = await before.WaitForLinesAsync(l => l.StartsWith("press ", StringComparison.Ordinal) && l.Contains(" queued", StringComparison.Ordinal), count: 3);
            requestIds = queued.Select(l => l.Split(' ')[1]).ToList();
            before.Kill(); // power cut: the presses are only in the queue file
        }

        using var after = SampleProcess.StartDotnet("IotButton", _workDirectory, args);
        await after.WaitForLinesAsync(l => l.StartsWith("3 queued presses from before", StringComparison.Ordinal));
        await _gateway.StartAsync();
        var acks = await after.WaitForLinesAsync(l => l.StartsWith("ack ", StringComparison.Ordinal), count: 3);
        after.CloseInput();
        Assert.That(await after.WaitForExitAsync(), Is.Zero, after.Output);

        Assert.That(acks.Select(l => l.Split(' ')[1].TrimEnd(':')), Is.EqualTo(requestIds), "every press, in order");
        Assert.That(acks[0], Does.Contain("ID 201"));
        Assert.That(acks.Skip(1), Is.All.Contain("ID 409"));
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
        var stored = _gateway.Store.RecentCommandKeys(DateTimeOffset.MinValue, 1000);
        Assert.That(requestIds.Select(id => stored.Count(k => k.Key.EndsWith("\n" + id, StringComparison.Ordinal))), Is.All.EqualTo(1), "one command per RequestId");
    }

    [Test]
    public async Task CookieJar_reports_levels_until_the_gateway_orders_at_the_trigger_point()
    {
        using var jar = SampleProcess.StartDotnet("CookieJar", _workDirectory, [.. DeviceArgs("jar.queue"), "--interval", "0.05", "--take", "7"]);

        Assert.That(await jar.WaitForExitAsync(), Is.Zero, jar.Output);
        Assert.That(jar.Lines.Count(l => l.StartsWith("level ", StringComparison.Ordinal) && l.Contains("ID 200", StringComparison.Ordinal)), Is.EqualTo(7), jar.Output);
        Assert.That(jar.Lines.Single(l => l.Contains("ORDER", StringComparison.Ordinal)), Does.StartWith("level   5 count: ID 201"));
    }

    [Test]
    public async Task Dishwasher_sets_itself_up_once_and_reports_a_tablet_per_cycle()
    {
        string[] args = [.. DeviceArgs("dishwasher.queue"), "--http", _gateway.HttpBase.ToString(), "--cycles", "2", "--cycle-seconds", "0.05"];
        using (var first = SampleProcess.StartDotnet("Dishwasher", _workDirectory, args))
        {
            Assert.That(await first.WaitForExitAsync(), Is.Zero, first.Output);
            Assert.That(first.Lines, Has.Some.StartWith("set up dishwasher d-"));
            Assert.That(first.Lines.Where(l => l.StartsWith("cycle ", StringComparison.Ordinal)), Is.EqualTo(new[]
            {
                "cycle 1: one tablet used → 29 tablets left, ID 200 Done",
                "cycle 2: one tablet used → 28 tablets left, ID 200 Done",
            }));
        }

        using var second = SampleProcess.StartDotnet("Dishwasher", _workDirectory, args);
        Assert.That(await second.WaitForExitAsync(), Is.Zero, second.Output);
        Assert.That(second.Lines, Has.None.StartWith("set up"), "the key kept in dishwasher.json is used again");
        Assert.That(second.Lines, Has.Some.StartWith("cycle 2: one tablet used → 26 tablets left"));
    }

    [Test]
    public async Task OpsConsole_logs_in_under_an_ops_client_id_and_shows_presence_and_events()
    {
        await using (var button = await _gateway.ConnectButtonAsync())
        {
            await button.RequestAsync(DeviceTopicKind.Trigger, "{\"Instruction_Ref\":123456789}");
        }

        using var ops = SampleProcess.StartDotnet("OpsConsole", _workDirectory,
            ["--user", TestGateway.OpsUser, "--password", TestGateway.OpsPassword, "--port", _gateway.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seconds", "2"]);

        Assert.That(await ops.WaitForExitAsync(), Is.Zero, ops.Output);
        Assert.That(ops.Output, Does.Contain("ops-console-"));
        Assert.That(ops.Output, Does.Contain("demo-button"));
        Assert.That(ops.Output, Does.Contain("Placed"), "the retained order");
    }
}
