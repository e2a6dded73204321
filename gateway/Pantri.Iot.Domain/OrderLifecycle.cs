namespace Pantri.Iot.Domain;

/// <summary>The allowed moves of an order: approval (AwaitingApproval → Placed) when the household asks for it, forward through Placed → Submitted → Confirmed → Shipped → Delivered
/// (steps may be skipped, never taken back), to Rejected or Failed from any open state before it shipped, and to
/// Cancelled while it has not shipped. Closed orders never move again.</summary>
public static class OrderLifecycle
{
    /// <summary>True for AwaitingApproval, Placed, Submitted, Confirmed and Shipped.</summary>
    public static bool IsOpen(OrderState state) =>
        state is OrderState.AwaitingApproval or OrderState.Placed or OrderState.Submitted or OrderState.Confirmed or OrderState.Shipped;

    /// <summary>True when an order in <paramref name="from"/> may move to <paramref name="to"/>. An order awaiting
    /// approval only becomes Placed (approved) or Cancelled (declined, expired).</summary>
    public static bool CanMove(OrderState from, OrderState to) => from == OrderState.AwaitingApproval
        ? to is OrderState.Placed or OrderState.Cancelled
        : IsOpen(from) && to switch
    {
        OrderState.Submitted => from == OrderState.Placed,
        OrderState.Confirmed => from is OrderState.Placed or OrderState.Submitted,
        OrderState.Shipped => from is OrderState.Placed or OrderState.Submitted or OrderState.Confirmed,
        OrderState.Delivered => true,
        OrderState.Failed => true,
        OrderState.Rejected => from is not OrderState.Shipped,
        OrderState.Cancelled => from is not OrderState.Shipped,
        _ => false,
    };
}

/// <summary>Who moved an order, as recorded on each transition.</summary>
public static class OrderSources
{
    /// <summary>The household, through the app or the API.</summary>
    public const string Household = "household";

    /// <summary>The retailer (its answer to a submission, or a status it reported).</summary>
    public const string Retailer = "retailer";

    /// <summary>The gateway itself (placing it, or giving up on a retailer).</summary>
    public const string Gateway = "gateway";
}
