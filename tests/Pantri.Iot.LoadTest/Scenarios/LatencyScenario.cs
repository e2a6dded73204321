using Pantri.Iot.LoadTest.Load;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Scenario 1: N devices press at a fixed total rate (open loop); press→ack percentiles per target.
/// <c>--idle</c> adds connected, subscribed devices that send nothing (the #2174 session-scan setting).</summary>
public static class LatencyScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, TargetLauncher launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(launcher);
        var active = args.Int("devices", 100);
        var idle = args.Int("idle", 0);
        var rate = args.Double("rate", 1000);
        var duration = TimeSpan.FromSeconds(args.Double("duration", 10));
        var kind = Enum.Parse<RequestKind>(args.String("kind", "trigger"), ignoreCase: true);
        var p50 = new Dictionary<string, double>();
        var p99 = new Dictionary<string, double>();
        foreach (var name in launcher.Names)
        {
            await using var target = await launcher.StartAsync(name, active + idle, cancellationToken).ConfigureAwait(false);
            var tracker = new AckTracker();
            var fleet = await DeviceFleet.ConnectAsync(target.Devices, target.Host, target.Port, tracker, 128, cancellationToken).ConfigureAwait(false);
            LoadStep step;
            await using (fleet.ConfigureAwait(false))
            {
                var devices = fleet.Devices.Take(active).ToList();
                await OpenLoopDriver.RunAsync(devices, kind, rate, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                step = await OpenLoopDriver.RunAsync(devices, kind, rate, duration, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }

            var row = Rows.Step(name, step);
            row["idle"] = idle;
            row["connect s"] = fleet.ConnectTime.TotalSeconds;
            report.Add(row);
            p50[name] = step.Latency.P50;
            p99[name] = step.Latency.P99;
            await Rows.CheckStorageAsync(report, target, step.CommandRefs, cancellationToken).ConfigureAwait(false);
        }

        foreach (var baseline in new[] { "E", "M" }.Where(p50.ContainsKey))
        {
            if (p50.TryGetValue("F", out var fP50))
            {
                report.Note(Report.Ratio($"p50 F/{baseline}", fP50, p50[baseline]));
                report.Note(Report.Ratio($"p99 F/{baseline}", p99["F"], p99[baseline]));
            }
        }

        if (p99.TryGetValue("F", out var f) && rate >= 1000 && idle == 0)
        {
            report.Note($"target p99 ≤ 5 ms at {rate:F0}/s: {(f <= 5 ? "met" : "NOT met")} (p99 = {Report.Format(f)} ms)");
        }
    }
}
