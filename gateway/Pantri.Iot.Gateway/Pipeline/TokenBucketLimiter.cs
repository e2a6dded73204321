namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Per-actor token buckets. Used only from the command writer thread, so it needs no locks.</summary>
public sealed class TokenBucketLimiter(double perSecond, int burst)
{
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes one token for <paramref name="key"/>; false when the bucket is empty.</summary>
    public bool TryTake(string key, DateTimeOffset now)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            _buckets[key] = new Bucket { Tokens = burst - 1, At = now };
            return true;
        }

        var elapsed = (now - bucket.At).TotalSeconds;
        if (elapsed > 0)
        {
            bucket.Tokens = Math.Min(burst, bucket.Tokens + (elapsed * perSecond));
            bucket.At = now;
        }

        if (bucket.Tokens < 1)
        {
            return false;
        }

        bucket.Tokens -= 1;
        return true;
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public DateTimeOffset At { get; set; }
    }
}
