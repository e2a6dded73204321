namespace Pantri.Iot.Gateway.Storage;

/// <summary>A store that can list the idempotency keys of its recent commands, so the writer can answer "is this
/// RequestId new?" from memory instead of an index lookup per command.</summary>
public interface IRecentCommandKeys
{
    /// <summary>Up to <paramref name="limit"/> commands with an idempotency key and <c>At ≥ since</c>, newest first.</summary>
    IReadOnlyList<(string Key, long CommandRef, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit);
}
