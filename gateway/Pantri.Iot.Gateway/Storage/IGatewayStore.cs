using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Durable state of the gateway. <see cref="Commit"/> is called from one thread only.</summary>
public interface IGatewayStore : IDisposable
{
    /// <summary>Loads everything the ledger needs.</summary>
    StoredState Load();

    /// <summary>The installation values alone, or null before the first start stored them.</summary>
    GatewayMeta? LoadMeta();

    /// <summary>Writes a batch atomically; throws when it could not, and then nothing of it is stored.</summary>
    void Commit(WriteBatch batch);

    /// <summary>Closes the storage and opens it again, as a restart would, after a write failed (a full disk can leave a
    /// database failing every later call until it is reopened). Throws when it cannot. Called by the writer thread only,
    /// between batches; reads on other threads wait while it runs.</summary>
    void Reopen();

    /// <summary>Writes a consistent copy of the committed state into <paramref name="directory"/> (which exists and is
    /// empty), as files a gateway can open as its data directory. Called by the writer thread between commits (the online backup's command), so no commit is half in the copy.</summary>
    void Backup(string directory);

    /// <summary>The newest command stored under an idempotency key, if any.</summary>
    CommandRecord? FindCommandByKey(string idempotencyKey);

    /// <summary>A stored command by its sequence number.</summary>
    CommandRecord? FindCommandBySequence(long sequence);

    /// <summary>Up to <paramref name="limit"/> commands with an idempotency key and <c>At ≥ since</c>, newest first,
    /// so the writer can answer "is this RequestId new?" from memory.</summary>
    IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit);

    /// <summary>An order by its ref, open or closed.</summary>
    Order? FindOrder(long orderRef);

    /// <summary>The orders of <paramref name="orderRefs"/> that exist, in one read.</summary>
    IReadOnlyList<Order> FindOrdersByRef(IReadOnlyCollection<long> orderRefs);

    /// <summary>An account's orders, newest first.</summary>
    IReadOnlyList<Order> FindOrders(string accountId, int limit);

    /// <summary>A household's audit log, newest first.</summary>
    IReadOnlyList<AuditEntry> FindAudit(string accountId, int limit);

    /// <summary>Up to <paramref name="limit"/> queued submissions, oldest first.</summary>
    IReadOnlyList<OutboxEntry> PendingSubmissions(int limit);

    /// <summary>Up to <paramref name="limit"/> orders in <paramref name="state"/>, any account.</summary>
    IReadOnlyList<Order> FindOrdersInState(OrderState state, int limit);

    /// <summary>Orders whose household cancel waits to be forwarded to their retailer, oldest request first.</summary>
    IReadOnlyList<Order> FindOrdersAwaitingCancel(int limit);
}
