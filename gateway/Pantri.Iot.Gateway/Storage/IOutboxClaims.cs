namespace Pantri.Iot.Gateway.Storage;

/// <summary>An outbox several dispatchers read at once (one per gateway instance): a submission is handed to one
/// dispatcher at a time, for a lease, so an order is submitted by one instance only; when that instance dies, the
/// lease runs out and another takes the submission over (with the same idempotency key, so the retailer sees one
/// order).</summary>
public interface IOutboxClaims
{
    /// <summary>Up to <paramref name="limit"/> queued submissions nobody else holds, oldest first, now held by
    /// <paramref name="owner"/> for <paramref name="lease"/>.</summary>
    IReadOnlyList<OutboxEntry> ClaimSubmissions(string owner, int limit, TimeSpan lease);
}
