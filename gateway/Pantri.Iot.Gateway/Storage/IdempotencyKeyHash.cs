namespace Pantri.Iot.Gateway.Storage;

/// <summary>A stable 64-bit hash of an idempotency key (FNV-1a over UTF-16 code units): the same in every process,
/// cheap, and a collision only costs a comparison with the stored key.</summary>
public static class IdempotencyKeyHash
{
    /// <summary>Hashes <paramref name="key"/>.</summary>
    public static long Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }
}
