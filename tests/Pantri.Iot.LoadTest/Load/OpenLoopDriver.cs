using System.Diagnostics;
using System.Globalization;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Open-loop load: request i is due at start + i/rate whatever the system answers, round-robin over the
/// active devices. Latency counts from that due time, so a system that falls behind shows it.</summary>
public static class OpenLoopDriver
{
    private static long _sequence;

    /// <summary>Sends <paramref name="rate"/> requests/s for <paramref name="duration"/>, then waits up to
    /// <paramref name="drain"/> for the last acks.</summary>
    public static async Task<LoadStep> RunAsync(IReadOnlyList<SimulatedDevice> devices, RequestKind kind, double rate, TimeSpan duration, TimeSpan drain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var tracker = new AckTracker();
        foreach (var device in devices)
        {
            device.UseTracker(tracker);
        }

        var total = (long)(rate * duration.TotalSeconds);
        var ticksPerRequest = Stopwatch.Frequency / rate;
        var inFlight = new List<Task>((int)Math.Min(total, 1_000_000));
        var start = Stopwatch.GetTimestamp();
        var next = 0L;
        var run = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        while (next < total)
        {
            var now = Stopwatch.GetTimestamp();
            while (next < total)
            {
                var due = start + (long)(next * ticksPerRequest);
                if (due > now)
                {
                    break;
                }

                var device = devices[(int)(next % devices.Count)];
                inFlight.Add(device.SendAsync(kind, run + "-" + next.ToString(CultureInfo.InvariantCulture), due, cancellationToken));
                next++;
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        var sendTime = Stopwatch.GetElapsedTime(start);
        await tracker.DrainAsync(drain, cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(inFlight), Task.Delay(drain, cancellationToken)).ConfigureAwait(false);
        return new LoadStep(kind, rate, devices.Count, total, tracker.Acked, tracker.Sent - tracker.Acked, tracker.PublishFailed, tracker.Unmatched, sendTime.TotalSeconds, tracker.TakeLatencies(), tracker.Ids, tracker.CommandRefs);
    }
}
