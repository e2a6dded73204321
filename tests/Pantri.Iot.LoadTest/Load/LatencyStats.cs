using System.Diagnostics;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Percentiles of press→ack latency, in milliseconds.</summary>
public sealed record LatencyStats(int Count, double P50, double P99, double P999, double Max, double Mean)
{
    /// <summary>No samples.</summary>
    public static readonly LatencyStats Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>Computes the percentiles of <paramref name="ticks"/> (Stopwatch ticks); sorts the list.</summary>
    public static LatencyStats From(List<long> ticks)
    {
        ArgumentNullException.ThrowIfNull(ticks);
        if (ticks.Count == 0)
        {
            return Empty;
        }

        ticks.Sort();
        double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
        double At(double q) => Ms(ticks[Math.Min(ticks.Count - 1, (int)Math.Ceiling(q * ticks.Count) - 1)]);
        return new LatencyStats(ticks.Count, At(0.50), At(0.99), At(0.999), Ms(ticks[^1]), Ms((long)ticks.Average()));
    }
}
