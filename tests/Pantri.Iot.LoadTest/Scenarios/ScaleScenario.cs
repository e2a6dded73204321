using Pantri.Iot.LoadTest.Load;
using Pantri.Iot.LoadTest.Targets;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>1, then 2 (or <c>--instances</c>) gateway processes behind Mosquitto (the shipped mosquitto.conf) on one
/// PostgreSQL database: the same open-loop steps as the throughput scenario, per instance count, with the devices
/// connected to Mosquitto; then every acked command is looked up in PostgreSQL.</summary>
public static class ScaleScenario
{
    /// <summary>Runs it.</summary>
    public static async Task RunAsync(HarnessArgs args, Report report, string workDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(report);
        var active = args.Int("devices", 100);
        var counts = args.Ints("instances", "1,2");
        var rates = args.Ints("rates", "250,500,1000,1500,2000,3000,4000");
        var kind = Enum.Parse<RequestKind>(args.String("kind", "level"), ignoreCase: true);
        var step = TimeSpan.FromSeconds(args.Double("step", 5));
        var bound = args.Double("bound", 50);

        await using var cluster = await ScaleCluster.StartAsync(workDirectory, cancellationToken).ConfigureAwait(false);
        var provisioning = Path.Combine(workDirectory, "scale-provisioning");
        IReadOnlyList<DeviceCredential> devices;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using (var gateway = await InProcessGateway.StartAsync(provisioning, 0, cancellationToken, cluster.GatewayArguments()).ConfigureAwait(false))
        {
            // Through the setup service, so each device is also created in Mosquitto's dynamic security plugin.
            devices = await gateway.ProvisionAsync(active, "scale", cancellationToken).ConfigureAwait(false);
        }

        Console.WriteLine($"provisioned {active} devices in PostgreSQL and Mosquitto in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        var held = new Dictionary<int, double>();
        foreach (var count in counts)
        {
            for (var i = 0; i < count; i++)
            {
                await cluster.StartGatewayAsync(provisioning, cancellationToken).ConfigureAwait(false);
            }

            var name = $"X{count}";
            var refs = new List<long>();
            held[count] = 0;
            var fleet = await DeviceFleet.ConnectAsync(devices, "127.0.0.1", cluster.MqttPort, new AckTracker(), 64, cancellationToken).ConfigureAwait(false);
            await using (fleet.ConfigureAwait(false))
            {
                await OpenLoopDriver.RunAsync(fleet.Devices, kind, 200, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                foreach (var rate in rates)
                {
                    var result = await OpenLoopDriver.RunAsync(fleet.Devices, kind, rate, step, TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
                    refs.AddRange(result.CommandRefs);
                    var row = Rows.Step(name, result);
                    row["instances"] = count;
                    row["held"] = result.Held(bound);
                    report.Add(row);
                    if (!result.Held(bound))
                    {
                        break;
                    }

                    held[count] = rate;
                    await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                }
            }

            var (commitMs, batchSize, insideMs) = await cluster.GatewayMeansAsync(cancellationToken).ConfigureAwait(false);
            report.Note($"{name}: mean PostgreSQL commit {commitMs:F1} ms, {batchSize:F1} commands per batch, {insideMs:F1} ms from arrival to ack inside the gateway");
            cluster.StopGateways();
            var (missing, duplicateOpen) = await cluster.CheckAsync(refs, cancellationToken).ConfigureAwait(false);
            report.Note($"{name} ({count} gateway process{(count == 1 ? "" : "es")}): highest rate held (0 lost, p99 ≤ {bound} ms) = {held[count]}/s; " +
                $"{refs.Count} acked commands looked up in PostgreSQL, {missing} missing; {duplicateOpen} instructions with two open orders");
        }

        if (held.TryGetValue(1, out var one) && held.TryGetValue(2, out var two) && one > 0)
        {
            report.Note(Report.Ratio("held rate 2 instances / 1", two, one));
        }
    }
}
