using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pantri.Iot.Sdk.Tests;

/// <summary>Connection loss, restarts and refusals, against a real gateway that is stopped and brought back on the
/// same port and data directory.</summary>
[Category("Integration")]
public sealed class ResilienceTests
{
    private TestGateway _gateway = null!;
    private SdkTestKit _kit = null!;

    [SetUp]
    public async Task StartGateway()
    {
        _gateway = await GatewayLogs.StartAsync();
        _gateway.KeepMqttPortOnRestart = true;
        _kit = new SdkTestKit();
    }

    [TearDown]
    public async Task StopGateway()
    {
        await _kit.DisposeAsync();
        _kit.Logger.AssertNeverLogged(_gateway.Demo.ButtonKey);
        await _gateway.DisposeAsync();
    }

    [TestCase(PantriProtocolVersion.Mqtt5)]
    [TestCase(PantriProtocolVersion.Mqtt311)]
    public async Task A_wrong_key_is_an_authentication_error_within_seconds_and_is_never_retried(PantriProtocolVersion version)
    {
        var options = SdkTestKit.Options(_gateway, DemoCredentials.Button, "not-the-key", version);
        var client = _kit.Client(options);
        var retries = 0;
        client.Reconnecting += (_, _) => Interlocked.Increment(ref retries);
        var watch = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<PantriAuthenticationException>(() => client.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token));

        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(error!.ReasonCode, Is.EqualTo("BadUserNameOrPassword"));
        Assert.That(error.Message, Does.Contain("demo-button").And.Contain("Device_Key"));
        Assert.That(client.State, Is.EqualTo(PantriConnectionState.AuthenticationFailed));
        Assert.ThrowsAsync<PantriAuthenticationException>(() => client.TriggerReorderAsync(DemoCredentials.ButtonRef));
        await Task.Delay(300);
        Assert.That(retries, Is.Zero, "a refused key is not retried");
        _kit.Logger.AssertNeverLogged("not-the-key");
    }

    [Test]
    public async Task Reconnect_backoff_grows_while_the_gateway_is_down_and_starts_over_after_a_good_connection()
    {
        var options = SdkTestKit.Button(_gateway);
        options.RetryDelay = TimeSpan.FromMilliseconds(50);
        options.MaxRetryDelay = TimeSpan.FromSeconds(10);
        var client = _kit.Client(options);
        var retries = new ConcurrentQueue<PantriReconnectingEventArgs>();
        client.Reconnecting += (_, e) => retries.Enqueue(e);
        await client.ConnectAsync();

        await _gateway.StopAsync();
        Assert.That(await Eventually.TrueAsync(() => retries.Count >= 6, TimeSpan.FromSeconds(20)), Is.True, "six failed attempts");
        var down = retries.Take(6).ToList();
        await _gateway.StartAsync();
        await client.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        retries.Clear();
        await _gateway.StopAsync();
        Assert.That(await Eventually.TrueAsync(() => !retries.IsEmpty, TimeSpan.FromSeconds(10)), Is.True);
        var again = retries.First();

        TestContext.Out.WriteLine("delays while down: " + string.Join(", ", down.Select(r => $"#{r.Attempt} {r.Delay.TotalMilliseconds:0} ms")));
        TestContext.Out.WriteLine($"after a good connection: #{again.Attempt} {again.Delay.TotalMilliseconds:0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(down.Select(r => r.Attempt), Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }));
            // Exponential with jitter: attempt n is about 50 ms × 2^(n-1), so 5 and 6 together far exceed 1 and 2.
            Assert.That(down[4].Delay + down[5].Delay, Is.GreaterThan(2 * (down[0].Delay + down[1].Delay)));
            Assert.That(down.Select(r => r.Delay), Is.All.LessThanOrEqualTo(options.MaxRetryDelay));
            Assert.That(down.Select(r => r.Error), Is.All.Not.Null);
            Assert.That(again.Attempt, Is.EqualTo(1), "the backoff starts over after a good connection");
            Assert.That(again.Delay, Is.LessThanOrEqualTo(2 * options.RetryDelay));
        });
    }

    [Test]
    public async Task Presses_queued_while_the_gateway_is_down_survive_an_SDK_restart_and_arrive_exactly_once()
    {
        var options = SdkTestKit.Button(_gateway);
        options.QueuePath = _kit.QueuePath();
        options.AckTimeout = TimeSpan.FromMilliseconds(200);
        var before = _kit.Client(options);
        await before.ConnectAsync();
        await _gateway.StopAsync();
        Assert.That(await Eventually.TrueAsync(() => !before.IsConnected, TimeSpan.FromSeconds(5)), Is.True);

        for (var i = 0; i < 3; i++)
        {
            var timeout = Assert.ThrowsAsync<PantriAckTimeoutException>(() => before.TriggerReorderAsync(DemoCredentials.ButtonRef));
            Assert.That(timeout!.WasConnected, Is.False);
        }

        var queued = before.GetPendingCommands();
        await before.DisposeAsync(); // the SDK process goes away with three presses on disk

        var after = _kit.Client(options);
        var completed = new ConcurrentQueue<PantriCommandCompletedEventArgs>();
        after.CommandCompleted += (_, e) => completed.Enqueue(e);
        await after.StartAsync();
        Assert.That(after.GetPendingCommands(), Is.EqualTo(queued), "the restarted SDK resumes the same commands");
        await _gateway.StartAsync();

        Assert.That(await Eventually.TrueAsync(() => completed.Count == 3, TimeSpan.FromSeconds(20)), Is.True, "every queued press is acknowledged");
        var acks = completed.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(queued, Has.Count.EqualTo(3));
            Assert.That(acks.Select(a => a.Command.RequestId), Is.EqualTo(queued.Select(c => c.RequestId)), "in the order they were made");
            Assert.That(acks.Select(a => a.Acknowledgement!.Id), Is.EqualTo(new[] { 201, 409, 409 }), "one order; the others name it");
            Assert.That(acks.Select(a => a.Acknowledgement!.CommandRef).Distinct().Count(), Is.EqualTo(3));
            Assert.That(acks.Select(a => a.Acknowledgement!.Replayed), Is.All.Null, "each was processed once, not replayed");
            Assert.That(after.PendingCommands, Is.Zero);
        });
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
        var stored = _gateway.Store.RecentCommandKeys(DateTimeOffset.MinValue, 1000);
        foreach (var command in queued)
        {
            Assert.That(stored.Count(k => k.Key.EndsWith("\n" + command.RequestId, StringComparison.Ordinal)), Is.EqualTo(1), $"one command for {command.RequestId}");
        }
    }

    [Test]
    public async Task A_queued_press_that_the_gateway_already_processed_gets_the_first_ack_replayed_and_orders_nothing_more()
    {
        // The SDK sent a press, the gateway committed it, and the SDK died before it recorded the ack: on restart the
        // press is still queued and is sent again under the same RequestId.
        var options = SdkTestKit.Button(_gateway);
        options.QueuePath = _kit.QueuePath();
        var first = _kit.Client(options);
        var original = await first.TriggerReorderAsync(DemoCredentials.ButtonRef, requestId: "press-before-crash");
        await first.DisposeAsync();
        using (var queue = Queue.CommandQueue.Open(options.QueuePath, 10, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
        {
            queue.Enqueue(DeviceTopicKind.Trigger, DemoCredentials.ButtonRef, null, "press-before-crash", DateTimeOffset.UnixEpoch);
        }

        var restarted = _kit.Client(options);
        var completed = new TaskCompletionSource<PantriCommandCompletedEventArgs>();
        restarted.CommandCompleted += (_, e) => completed.TrySetResult(e);
        await restarted.StartAsync();
        var replay = (await completed.Task.WaitAsync(TimeSpan.FromSeconds(10))).Acknowledgement!;

        Assert.Multiple(() =>
        {
            Assert.That(replay.Replayed, Is.True);
            Assert.That(replay.CommandRef, Is.EqualTo(original.CommandRef));
            Assert.That(replay.Id, Is.EqualTo(AckIds.OrderPlaced));
            Assert.That(replay.OrderRef, Is.EqualTo(original.OrderRef));
        });
        Assert.That(_gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_press_made_offline_times_out_clearly_and_is_still_delivered_when_the_gateway_returns()
    {
        var options = SdkTestKit.Button(_gateway);
        options.AckTimeout = TimeSpan.FromMilliseconds(300);
        var client = _kit.Client(options);
        await client.ConnectAsync();
        await _gateway.StopAsync();
        Assert.That(await Eventually.TrueAsync(() => !client.IsConnected, TimeSpan.FromSeconds(5)), Is.True);
        var completed = new TaskCompletionSource<PantriCommandCompletedEventArgs>();
        client.CommandCompleted += (_, e) => completed.TrySetResult(e);

        var timeout = Assert.ThrowsAsync<PantriAckTimeoutException>(() => client.TriggerReorderAsync(DemoCredentials.ButtonRef));
        Assert.That(timeout!.Message, Does.Contain("stays queued"));
        Assert.That(timeout.Command!.RequestId, Is.Not.Empty);
        await _gateway.StartAsync();
        var done = await completed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(done.Command.RequestId, Is.EqualTo(timeout.Command.RequestId));
        Assert.That(done.Acknowledgement!.Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    [Test]
    public async Task Too_fast_acks_are_resent_with_the_same_RequestId_until_the_gateway_takes_them()
    {
        await _gateway.DisposeAsync();
        _gateway = await GatewayLogs.StartAsync(["--Pantri:CommandsPerSecond=5", "--Pantri:CommandBurst=1"]);
        var options = SdkTestKit.Jar(_gateway);
        options.RetryDelay = TimeSpan.FromMilliseconds(100);
        var jar = _kit.Client(options);
        await jar.ConnectAsync();

        var reports = Enumerable.Range(0, 4).Select(i => jar.ReportLevelAsync(DemoCredentials.JarRef, 20 - i)).ToList();
        var acks = await Task.WhenAll(reports);

        Assert.That(acks.Select(a => a.Id), Is.All.EqualTo(AckIds.Recorded));
        Assert.That(acks.Select(a => a.Level), Is.EqualTo(new double?[] { 20, 19, 18, 17 }), "sent in order");
        Assert.That(_kit.Logger.Entries.Any(e => e.Id.Id == 4104 && e.Text.Contains("429", StringComparison.Ordinal)), Is.True, "at least one 429 was resent");
    }
}
