using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>A retailer's (or the dispatcher's) change to an order, decided on the writer like any command, so it
/// races with nothing a household or device does to the same order.</summary>
/// <param name="Retailer">The order's retailer; orders of another retailer are not found.</param>
/// <param name="OrderRef">The order.</param>
/// <param name="State">The state it moves to.</param>
/// <param name="Source">retailer or gateway (<see cref="OrderSources"/>).</param>
/// <param name="Reason">Why, when there is more to say.</param>
/// <param name="UnitPrice">With Confirmed: the retailer's quoted unit price (checked against the price guard).</param>
/// <param name="Currency">The quote's currency (null: the household's).</param>
public sealed record RetailerOrderUpdate(string Retailer, long OrderRef, OrderState State, string Source, string? Reason, decimal? UnitPrice = null, string? Currency = null) : IWriterCommand<OrderMoveOutcome?>
{
    /// <inheritdoc/>
    public OrderMoveOutcome? Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.AdvanceOrder(Retailer, OrderRef, State, Source, Reason, work.Now, UnitPrice, Currency).Outcome;
    }

    /// <summary>Null: nothing was recorded; the dispatcher tries again on its next round.</summary>
    public OrderMoveOutcome? Unavailable(long commandRef) => null;
}
