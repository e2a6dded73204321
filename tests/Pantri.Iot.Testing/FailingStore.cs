using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Testing;

/// <summary>A real store whose commits can be made to fail, for tests of what the gateway does when the disk does not
/// take a write. Everything else goes to the inner store, which the caller owns and disposes.</summary>
/// <example><code>
/// using var real = new LiteDbGatewayStore(path);
/// var store = new FailingStore(real) { FailCommitsWhen = batch => batch.Devices.Count > 0 };
/// await using var gateway = await TestGateway.StartAsync(configure: b => b.Services.Replace(ServiceDescriptor.Singleton&lt;IGatewayStore&gt;(store)));
/// gateway.ExpectLoggedErrors(FailingStore.Failure);
/// </code></example>
public sealed class FailingStore(IGatewayStore inner) : IGatewayStore
{
    /// <summary>The message of the <see cref="IOException"/> a failed commit throws.</summary>
    public const string Failure = "disk unavailable";

    private volatile bool _failCommits;

    /// <summary>While true, every commit fails. The gateway commits on its writer thread, hence volatile.</summary>
    public bool FailCommits
    {
        get => _failCommits;
        set => _failCommits = value;
    }

    /// <summary>Commits of batches this matches fail as well; none when null.</summary>
    public Func<WriteBatch, bool>? FailCommitsWhen { get; init; }

    public void Commit(WriteBatch batch)
    {
        if (FailCommits || (FailCommitsWhen?.Invoke(batch) ?? false))
        {
            throw new IOException(Failure);
        }

        inner.Commit(batch);
    }

    public StoredState Load() => inner.Load();

    /// <summary>Reopens the inner store: a real reopen, so recovery is exercised; commits still fail while <see cref="FailCommits"/>.</summary>
    public void Reopen() => inner.Reopen();

    public GatewayMeta? LoadMeta() => inner.LoadMeta();

    public CommandRecord? FindCommandByKey(string idempotencyKey) => inner.FindCommandByKey(idempotencyKey);

    public CommandRecord? FindCommandBySequence(long sequence) => inner.FindCommandBySequence(sequence);

    public IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit) => inner.RecentCommandKeys(since, limit);

    public Order? FindOrder(long orderRef) => inner.FindOrder(orderRef);

    public IReadOnlyList<Order> FindOrders(string accountId, int limit) => inner.FindOrders(accountId, limit);

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersByRef(IReadOnlyCollection<long> orderRefs) => inner.FindOrdersByRef(orderRefs);

    public IReadOnlyList<OutboxEntry> PendingSubmissions(int limit) => inner.PendingSubmissions(limit);

    public IReadOnlyList<Order> FindOrdersInState(OrderState state, int limit) => inner.FindOrdersInState(state, limit);

    public IReadOnlyList<Order> FindOrdersAwaitingCancel(int limit) => inner.FindOrdersAwaitingCancel(limit);

    public IReadOnlyList<Pantri.Iot.Gateway.Pipeline.AuditEntry> FindAudit(string accountId, int limit) => inner.FindAudit(accountId, limit);

    public void Backup(string directory) => inner.Backup(directory);

    /// <summary>Nothing to release: the inner store belongs to the caller.</summary>
    public void Dispose()
    {
    }
}
