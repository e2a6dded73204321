using Pantri.Iot.LoadTest.Load;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Scenario 2: stepped offered rates of triggers and of level reports; the highest rate each target holds
/// with nothing lost or unacked and p99 under the bound. Stepping stops at the first rate not held.</summary>
public static class ThroughputScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, TargetLauncher launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(launcher);
        var active = args.Int("devices", 100);
        var rates = args.Ints("rates", "1000,2000,5000,10000,15000,20000,25000,30000");
        var kinds = args.Names("kinds", "trigger,level").Select(k => Enum.Parse<RequestKind>(k, ignoreCase: true)).ToList();
        var step = TimeSpan.FromSeconds(args.Double("step", 5));
        var bound = args.Double("bound", 50);
        var held = new Dictionary<(string, RequestKind), double>();
        foreach (var name in launcher.Names)
        {
            await using var target = await launcher.StartAsync(name, active, cancellationToken).ConfigureAwait(false);
            var refs = new List<long>();
            var fleet = await DeviceFleet.ConnectAsync(target.Devices, target.Host, target.Port, new AckTracker(), 128, cancellationToken).ConfigureAwait(false);
            await using (fleet.ConfigureAwait(false))
            {
                await OpenLoopDriver.RunAsync(fleet.Devices, RequestKind.Trigger, 1000, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                foreach (var kind in kinds)
                {
                    held[(name, kind)] = 0;
                    foreach (var rate in rates)
                    {
                        var result = await OpenLoopDriver.RunAsync(fleet.Devices, kind, rate, step, TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
                        refs.AddRange(result.CommandRefs);
                        var row = Rows.Step(name, result);
                        row["held"] = result.Held(bound);
                        report.Add(row);
                        if (!result.Held(bound))
                        {
                            break;
                        }

                        held[(name, kind)] = rate;
                        // Let a backlog from this step clear so the next one starts fresh.
                        await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await Rows.CheckStorageAsync(report, target, refs, cancellationToken).ConfigureAwait(false);
        }

        foreach (var kind in kinds)
        {
            var label = kind.ToString().ToLowerInvariant();
            foreach (var name in launcher.Names)
            {
                report.Note($"{name} {label}: highest rate held (0 lost, p99 ≤ {bound} ms) = {held[(name, kind)]}/s");
            }

            if (held.TryGetValue(("F", kind), out var f))
            {
                foreach (var baseline in new[] { "E", "M" }.Where(b => held.ContainsKey((b, kind))))
                {
                    report.Note(Report.Ratio($"{label} throughput F/{baseline}", f, held[(baseline, kind)]));
                }

                if (kind == RequestKind.Level)
                {
                    report.Note($"target ≥ 20,000 level reports/s: {(f >= 20_000 ? "met" : "NOT met")} ({f}/s)");
                }

                if (held.TryGetValue(("E", kind), out var e) && e > 0)
                {
                    report.Note($"target F ≥ 0.5 × E ({label}): {(f >= 0.5 * e ? "met" : "NOT met")}");
                }
            }
        }
    }
}
