using System.Diagnostics;
using System.Globalization;
using Pantri.Iot.LoadTest.Load;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Scenario 4: N devices connected and each with one acked press; the target is killed (SIGKILL) and
/// started again on the same port and data; every device reconnects with jittered backoff and presses again. Time
/// from the kill until 99% / 100% of devices have an ack; for F, storage is checked for duplicate orders.</summary>
public static class StormScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, TargetLauncher launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(launcher);
        var count = args.Int("devices", 10_000);
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 120));
        var t99 = new Dictionary<string, double>();
        foreach (var name in launcher.Names)
        {
            await using var target = await launcher.StartAsync(name, count, cancellationToken).ConfigureAwait(false);
            var refs = new List<long>();
            var fleet = await DeviceFleet.ConnectAsync(target.Devices, target.Host, target.Port, new AckTracker(), 256, cancellationToken).ConfigureAwait(false);
            await using (fleet.ConfigureAwait(false))
            {
                // One press each before the restart: on F the first press of an instruction places its order.
                var before = await OpenLoopDriver.RunAsync(fleet.Devices, RequestKind.Trigger, 2000, TimeSpan.FromSeconds(count / 2000.0), TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
                refs.AddRange(before.CommandRefs);
                var tracker = new AckTracker();
                fleet.UseTracker(tracker);
                var pausedBefore = GC.GetTotalPauseDuration();
                var killedAt = Stopwatch.GetTimestamp();
                await target.RestartAsync(cancellationToken).ConfigureAwait(false);
                var listeningAfter = Stopwatch.GetElapsedTime(killedAt);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(timeout);
                var attempts = 0L;
                var connectedAt = new long[fleet.Devices.Count];
                await Task.WhenAll(fleet.Devices.Select((d, i) => ReturnAsync(d, "storm-" + i.ToString(CultureInfo.InvariantCulture), killedAt, tracker, () => Interlocked.Increment(ref attempts), t => connectedAt[i] = t, deadline.Token))).ConfigureAwait(false);
                await tracker.DrainAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                refs.AddRange(tracker.CommandRefs);
                var harnessPaused = GC.GetTotalPauseDuration() - pausedBefore;
                var p99 = tracker.TimeToFractionMs(count, 0.99);
                var all = tracker.TimeToFractionMs(count, 1.0);
                t99[name] = p99;
                var listeningMs = listeningAfter.TotalMilliseconds;
                report.Add(new Dictionary<string, object?>
                {
                    ["target"] = name,
                    ["devices"] = count,
                    ["acked before"] = before.Acked,
                    ["listening after s"] = listeningAfter.TotalSeconds,
                    ["back+acked"] = tracker.Acked,
                    ["connect attempts"] = attempts,
                    ["99% s"] = p99 / 1000,
                    ["100% s"] = all / 1000,
                    // The goal counts from the moment the target accepts connections again, not from the kill.
                    ["connected 99% after listening s"] = (ConnectedFractionMs(connectedAt, killedAt, count, 0.99) - listeningMs) / 1000,
                    ["99% after listening s"] = (p99 - listeningMs) / 1000,
                    ["100% after listening s"] = (all - listeningMs) / 1000,
                    // The harness's own GC pauses delay when it sees acks: a long one shows up as acks arriving in a burst.
                    ["harness GC pause s"] = harnessPaused.TotalSeconds,
                    ["ack IDs"] = string.Join(' ', tracker.Ids.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}")),
                });
            }

            await Rows.CheckStorageAsync(report, target, refs, cancellationToken).ConfigureAwait(false);
        }

        foreach (var baseline in new[] { "E", "M" }.Where(t99.ContainsKey))
        {
            if (t99.TryGetValue("F", out var f))
            {
                report.Note(Report.Ratio($"time to 99% back F/{baseline}", f, t99[baseline]));
            }
        }
    }

    /// <summary>What firmware does after losing the gateway: wait a random moment, reconnect, back off on failure,
    /// then press again (the press is "scheduled" at the kill, so its latency is the time to recovery).</summary>
    private static async Task ReturnAsync(SimulatedDevice device, string requestId, long killedAt, AckTracker tracker, Action attempted, Action<long> connected, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        try
        {
            await Task.Delay(Random.Shared.Next(0, 1000), cancellationToken).ConfigureAwait(false);
            while (true)
            {
                attempted();
                try
                {
                    if (!device.IsConnected)
                    {
                        await device.ConnectAsync(cancellationToken).ConfigureAwait(false);
                        connected(Stopwatch.GetTimestamp());
                    }

                    if (await device.SendAsync(RequestKind.Trigger, requestId, killedAt, cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // Refused, reset or timed out: try again later, like a device would.
                }

                await Task.Delay(backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 500)), cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: this device counts as not back.
        }
    }

    /// <summary>Milliseconds from the kill until <paramref name="fraction"/> of <paramref name="population"/> devices
    /// had connected again (infinity when fewer did).</summary>
    private static double ConnectedFractionMs(long[] connectedAt, long killedAt, int population, double fraction)
    {
        var times = connectedAt.Where(t => t != 0).Order().ToList();
        var needed = (int)Math.Ceiling(population * fraction);
        return needed == 0 ? 0 : times.Count < needed ? double.PositiveInfinity : Stopwatch.GetElapsedTime(killedAt, times[needed - 1]).TotalMilliseconds;
    }
}
