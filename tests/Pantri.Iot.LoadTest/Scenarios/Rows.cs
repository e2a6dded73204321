using Pantri.Iot.LoadTest.Load;
using Pantri.Iot.LoadTest.Targets;

namespace Pantri.Iot.LoadTest.Scenarios;

/// <summary>Table rows shared by the scenarios.</summary>
public static class Rows
{
    /// <summary>One open-loop step.</summary>
    public static Dictionary<string, object?> Step(string target, LoadStep step) => new()
    {
        ["target"] = target,
        ["kind"] = step.Kind.ToString().ToLowerInvariant(),
        ["active"] = step.ActiveDevices,
        ["offered/s"] = step.OfferedRate,
        ["acked/s"] = step.AckedRate,
        ["sent"] = step.Requested,
        ["lost"] = step.Lost,
        ["pubFail"] = step.PublishFailed,
        ["p50 ms"] = step.Latency.P50,
        ["p99 ms"] = step.Latency.P99,
        ["p99.9 ms"] = step.Latency.P999,
        ["max ms"] = step.Latency.Max,
        ["send lag p50/p99 ms"] = $"{step.SendLag.P50:0.000}/{step.SendLag.P99:0.000}",
        ["ack IDs"] = string.Join(' ', step.AckIds.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}")),
    };

    /// <summary>Stops F and checks its storage; notes the result.</summary>
    public static async Task CheckStorageAsync(Report report, BenchTarget target, IEnumerable<long> ackedRefs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(target);
        if (!target.HasStorage)
        {
            return;
        }

        await target.StopAsync().ConfigureAwait(false);
        var check = await target.CheckStorageAsync(ackedRefs, cancellationToken).ConfigureAwait(false);
        report.Note($"F storage: {check!.AckedCommands} acked commands looked up, {check.MissingCommands} missing; {check.Orders} orders, {check.InstructionsWithDuplicateOrders} instructions with duplicate orders (two open at once), {check.InstructionsReordered} ordered again after their order closed");
    }
}
