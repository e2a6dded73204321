using System.Globalization;
using Pantri.Iot.LoadTest.Load;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Scenario 3: 100 → 1k → 10k → 50k idle connected devices. The target runs in its own process, so its
/// memory per device is its own (VmRSS, and GC heap after a full collection for .NET targets); at each count the
/// first <c>--active</c> devices run scenario 1.</summary>
public static class DevicesScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, TargetLauncher launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(launcher);
        var counts = args.Ints("counts", "100,1000,10000,50000");
        var active = args.Int("active", 100);
        var rate = args.Double("rate", 1000);
        var duration = TimeSpan.FromSeconds(args.Double("duration", 10));
        var p50 = new Dictionary<(string, int), double>();
        var perDevice = new Dictionary<(string, int), double>();
        await launcher.PrepareGatewayAsync(counts.Max(), cancellationToken).ConfigureAwait(false);
        foreach (var name in launcher.Names)
        {
            foreach (var count in counts)
            {
                await using var target = await launcher.StartAsync(name, count, cancellationToken).ConfigureAwait(false);
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                var heapBefore = target.GcHeapBytes();
                var rssBefore = target.ResidentBytes();
                var fleet = await DeviceFleet.ConnectAsync(target.Devices, target.Host, target.Port, new AckTracker(), 256, cancellationToken).ConfigureAwait(false);
                await using (fleet.ConfigureAwait(false))
                {
                    await Task.Delay(2000, cancellationToken).ConfigureAwait(false);
                    var heapAfter = target.GcHeapBytes();
                    var rssAfter = target.ResidentBytes();
                    var devices = fleet.Devices.Take(Math.Min(active, count)).ToList();
                    await OpenLoopDriver.RunAsync(devices, RequestKind.Trigger, rate, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                    var step = await OpenLoopDriver.RunAsync(devices, RequestKind.Trigger, rate, duration, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                    var rssKb = PerDeviceKb(rssBefore, rssAfter, count);
                    var heapKb = PerDeviceKb(heapBefore, heapAfter, count);
                    report.Add(new Dictionary<string, object?>
                    {
                        ["target"] = name,
                        ["devices"] = count,
                        ["connect s"] = fleet.ConnectTime.TotalSeconds,
                        ["connects/s"] = count / fleet.ConnectTime.TotalSeconds,
                        ["RSS MB"] = rssAfter / 1048576.0,
                        ["RSS KB/dev"] = rssKb,
                        ["GC heap KB/dev"] = heapKb,
                        ["offered/s"] = rate,
                        ["lost"] = step.Lost,
                        ["p50 ms"] = step.Latency.P50,
                        ["p99 ms"] = step.Latency.P99,
                        ["max ms"] = step.Latency.Max,
                    });
                    p50[(name, count)] = step.Latency.P50;
                    perDevice[(name, count)] = rssKb;
                }
            }
        }

        foreach (var count in counts)
        {
            foreach (var baseline in new[] { "E", "M" }.Where(b => perDevice.ContainsKey((b, count))))
            {
                if (perDevice.ContainsKey(("F", count)))
                {
                    report.Note(Report.Ratio($"{count} devices: RSS/device F/{baseline}", perDevice[("F", count)], perDevice[(baseline, count)]));
                    report.Note(Report.Ratio($"{count} devices: p50 F/{baseline}", p50[("F", count)], p50[(baseline, count)]));
                }
            }
        }

        var largest = counts.Max();
        if (perDevice.TryGetValue(("F", largest), out var kb))
        {
            report.Note(string.Create(CultureInfo.InvariantCulture, $"target ≥ 50,000 devices at ≤ 40 KB each: {(largest >= 50_000 && kb <= 40 ? "met" : "NOT met")} ({largest} devices, {kb:F1} KB RSS each)"));
        }

        if (p50.TryGetValue(("F", 100), out var small) && p50.TryGetValue(("F", 10_000), out var large))
        {
            report.Note(string.Create(CultureInfo.InvariantCulture, $"target p50 at 10k within 1.5× of p50 at 100: {(large <= 1.5 * small ? "met" : "NOT met")} ({large:F2} vs {small:F2} ms, {large / small:F2}×)"));
        }
    }

    private static double PerDeviceKb(long? before, long? after, int count) =>
        before is { } b && after is { } a ? (a - b) / 1024.0 / count : double.NaN;
}
