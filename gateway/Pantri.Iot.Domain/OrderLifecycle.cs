namespace Pantri.Iot.Domain;

/// <summary>The allowed moves of an order: forward through Placed → Submitted → Confirmed → Delivered, or to
/// Failed/Cancelled from any open state. Closed orders never move again.</summary>
public static class OrderLifecycle
{
    /// <summary>True for Placed, Submitted and Confirmed.</summary>
    public static bool IsOpen(OrderState state) => state is OrderState.Placed or OrderState.Submitted or OrderState.Confirmed;

    /// <summary>True when an order in <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    public static bool CanMove(OrderState from, OrderState to) => IsOpen(from) && to switch
    {
        OrderState.Submitted => from == OrderState.Placed,
        OrderState.Confirmed => from is OrderState.Placed or OrderState.Submitted,
        OrderState.Delivered => true,
        OrderState.Failed => true,
        OrderState.Cancelled => true,
        _ => false,
    };
}
