using System.Diagnostics;
using System.Globalization;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Open-loop load: request i is due at start + i/rate whatever the system answers, round-robin over the
/// active devices, and is sent at that time by a pacing thread. Latency counts from that due time, so a system that
/// falls behind shows it (and so does a harness that sends late: <see cref="LoadStep.SendLag"/>).</summary>
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
        var lag = new List<long>((int)Math.Min(total, 1_000_000));
        var run = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        var start = 0L;

        // One thread paces every send: it sleeps until the next request is due and sends it then (the publish runs
        // synchronously up to the socket write), so requests leave on time instead of in bursts. How late each left is
        // kept: when the harness itself cannot keep up, the report says so instead of blaming the target.
        void Pace()
        {
            Pacer.UsePreciseTimers();
            start = Stopwatch.GetTimestamp();
            for (var next = 0L; next < total && !cancellationToken.IsCancellationRequested; next++)
            {
                var due = start + (long)(next * ticksPerRequest);
                Pacer.WaitUntil(due);
                lag.Add(Stopwatch.GetTimestamp() - due);
                var device = devices[(int)(next % devices.Count)];
                inFlight.Add(device.SendAsync(kind, run + "-" + next.ToString(CultureInfo.InvariantCulture), due, cancellationToken));
            }
        }

        var pacer = new Thread(Pace) { IsBackground = true, Name = "pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        await Task.Run(pacer.Join, cancellationToken).ConfigureAwait(false);

        var sendTime = Stopwatch.GetElapsedTime(start);
        await tracker.DrainAsync(drain, cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(inFlight), Task.Delay(drain, cancellationToken)).ConfigureAwait(false);
        return new LoadStep(kind, rate, devices.Count, total, tracker.Acked, tracker.Sent - tracker.Acked, tracker.PublishFailed, tracker.Unmatched, sendTime.TotalSeconds, tracker.TakeLatencies(), tracker.Ids, tracker.CommandRefs) { SendLag = LatencyStats.From(lag) };
    }
}
