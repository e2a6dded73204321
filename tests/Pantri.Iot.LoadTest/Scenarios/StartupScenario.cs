using System.Diagnostics;
using System.Globalization;
using System.Text;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.LoadTest.Load;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Scenario 5: start-up with a long history. F's storage is filled with <c>--commands</c> stored commands
/// spread over the last 23 hours (inside the 24-hour idempotency window, each with its own RequestId), then F is
/// started: how long until it accepts MQTT connections (the broker starts last, after storage is loaded) and its
/// memory then; then 1,000 level reports/s with new RequestIds for <c>--duration</c> s, to show what a long window costs
/// each command afterwards. Then F is stopped cleanly and started again (the idempotency keys saved at the stop) and
/// measured the same way.</summary>
public static class StartupScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, TargetLauncher launcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(launcher);
        var commands = args.Int("commands", 1_000_000);
        var rate = args.Double("rate", 1000);
        var duration = TimeSpan.FromSeconds(args.Double("duration", 5));
        const int Devices = 100;
        foreach (var name in launcher.Names)
        {
            if (name == "F")
            {
                await launcher.PrepareGatewayAsync(Devices, cancellationToken).ConfigureAwait(false);
                var seeding = Stopwatch.GetTimestamp();
                Seed(Path.Combine(launcher.GatewayData!, "pantri.db"), commands);
                Console.WriteLine($"stored {commands} commands in {Stopwatch.GetElapsedTime(seeding).TotalSeconds:F1} s");
            }

            var started = Stopwatch.GetTimestamp();
            await using var target = await launcher.StartAsync(name, Devices, cancellationToken).ConfigureAwait(false);
            var acked = new List<long>();
            await MeasureAsync(name == "F" ? "first start" : "start", started).ConfigureAwait(false);
            if (name == "F")
            {
                // A clean stop saves the idempotency keys; the next start reads them instead of the window.
                started = Stopwatch.GetTimestamp();
                await target.RestartCleanlyAsync(cancellationToken).ConfigureAwait(false);
                await MeasureAsync("after a clean stop", started).ConfigureAwait(false);
                await Rows.CheckStorageAsync(report, target, acked, cancellationToken).ConfigureAwait(false);
            }

            async Task MeasureAsync(string when, long since)
            {
                var ready = Stopwatch.GetElapsedTime(since);
                var rss = target.ResidentBytes();
                var heap = target.GcHeapBytes();
                var tracker = new AckTracker();
                var fleet = await DeviceFleet.ConnectAsync(target.Devices, target.Host, target.Port, tracker, 128, cancellationToken).ConfigureAwait(false);
                LoadStep step;
                await using (fleet.ConfigureAwait(false))
                {
                    step = await OpenLoopDriver.RunAsync(fleet.Devices, RequestKind.Level, rate, duration, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                }

                acked.AddRange(step.CommandRefs);
                var row = Rows.Step(name, step);
                row["start"] = when;
                row["history"] = name == "F" ? commands : 0;
                row["ready s"] = ready.TotalSeconds;
                row["RSS MB"] = rss / 1e6;
                row["GC heap MB"] = heap / 1e6;
                report.Add(row);
                if (name == "F")
                {
                    report.Note($"F with {commands.ToString("N0", CultureInfo.InvariantCulture)} commands in the window, {when}: ready in {ready.TotalSeconds:F2} s (goal ≤ 3 s), RSS {rss / 1e6:F0} MB (goal ≤ 250 MB)");
                }
            }
        }
    }

    // Written straight into the store in batches, as the writer would have written them over the last 23 hours.
    private static void Seed(string databasePath, int count)
    {
        using var store = new LiteDbGatewayStore(databasePath);
        var meta = store.LoadMeta() ?? throw new InvalidOperationException("the gateway was not provisioned");
        var refs = new RefAllocator(Convert.FromBase64String(meta.RefKey!), meta.ReservedUpTo);
        var now = DateTimeOffset.UtcNow;
        var span = TimeSpan.FromHours(23);
        const int BatchSize = 5000;
        for (var from = 0; from < count; from += BatchSize)
        {
            var batch = new WriteBatch();
            if (refs.Remaining < BatchSize)
            {
                var upTo = refs.NextReservation();
                meta.ReservedUpTo = upTo;
                batch.Meta = meta;
                store.Commit(batch);
                refs.Reserved(upTo);
                batch = new WriteBatch();
            }

            for (var i = from; i < Math.Min(count, from + BatchSize); i++)
            {
                var commandRef = refs.Next(out var sequence);
                var device = string.Create(CultureInfo.InvariantCulture, $"bench-{i % 100:D6}");
                var requestId = string.Create(CultureInfo.InvariantCulture, $"history-{i}");
                batch.Commands.Add(new CommandRecord
                {
                    Sequence = sequence,
                    CommandRef = commandRef,
                    IdempotencyKey = device + "\n" + requestId,
                    DeviceId = device,
                    AccountId = "bench",
                    Kind = "level",
                    At = now - span + (span * i / count),
                    Ack = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"CommandRef":{{commandRef}},"ID":200,"Status":"Done","Instruction_Ref":1,"RequestId":"{{requestId}}","Level":12,"ReorderAt":2,"Unit":"count","Armed":true}""")),
                });
            }

            store.Commit(batch);
        }
    }
}
