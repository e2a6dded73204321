using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>The dispatcher is about to send these queued orders: marks them sent and returns the refs still Placed,
/// decided on the writer so that a household's cancel is either before it (the order is never sent) or after it (the
/// cancel is forwarded).</summary>
/// <param name="Retailer">The retailer they go to.</param>
/// <param name="OrderRefs">The queued orders.</param>
public sealed record RetailerSending(string Retailer, IReadOnlyList<long> OrderRefs) : IWriterCommand<IReadOnlyList<long>>
{
    /// <inheritdoc/>
    public IReadOnlyList<long> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.MarkSending(Retailer, OrderRefs, work.Now).Select(o => o.Ref).ToList();
    }

    /// <summary>Nothing recorded: nothing is sent this round.</summary>
    public IReadOnlyList<long> Unavailable(long commandRef) => [];
}

/// <summary>A retailer's answer to a forwarded cancel, recorded on the writer.</summary>
/// <param name="Retailer">The order's retailer.</param>
/// <param name="OrderRef">The order.</param>
/// <param name="Accepted">Whether the retailer cancelled it.</param>
/// <param name="Reason">The retailer's words.</param>
public sealed record RetailerCancelAnswer(string Retailer, long OrderRef, bool Accepted, string? Reason) : IWriterCommand<OrderMoveOutcome?>
{
    /// <inheritdoc/>
    public OrderMoveOutcome? Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.AnswerCancel(Retailer, OrderRef, Accepted, Reason, work.Now).Outcome;
    }

    /// <summary>Null: nothing was recorded; the cancel stays queued and is forwarded again (same idempotency key).</summary>
    public OrderMoveOutcome? Unavailable(long commandRef) => null;
}
