namespace Pantri.Iot.Domain;

/// <summary>One re-order of an instruction. Mutable because the ledger moves it through its lifecycle; the
/// gateway persists it as a document.</summary>
public sealed class Order
{
    /// <summary>The order's public reference.</summary>
    public long Ref { get; set; }

    /// <summary>The instruction it re-orders.</summary>
    public long InstructionRef { get; set; }

    /// <summary>The household.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>The device that caused it, or null when an app user or the rule did.</summary>
    public string? DeviceId { get; set; }

    /// <summary>trigger, level, usage or app.</summary>
    public string Origin { get; set; } = string.Empty;

    /// <summary>The command that placed it.</summary>
    public long CommandRef { get; set; }

    /// <summary>Where it is in its life.</summary>
    public OrderState State { get; set; }

    /// <summary>Product, copied from the instruction when placed.</summary>
    public string Product { get; set; } = string.Empty;

    /// <summary>Retailer, copied from the instruction when placed.</summary>
    public string Retailer { get; set; } = string.Empty;

    /// <summary>Quantity, copied from the instruction when placed.</summary>
    public int Quantity { get; set; }

    /// <summary>When it was placed.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it last changed state.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the dispatcher first handed it to its retailer (null: never sent). From then on the retailer may
    /// hold it, so a household's cancel has to be forwarded rather than just recorded.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>When the household asked to cancel an order its retailer may hold; set until the retailer answers
    /// (the dispatcher forwards it; this field, written in the same commit as the request, is its durable queue).</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }

    /// <summary>The retailer's reason for refusing the household's last cancel (e.g. "already shipped"), if it did.</summary>
    public string? CancelRefusal { get; set; }

    /// <summary>Why the cancel in <see cref="CancelRequestedAt"/> was asked for (the household, or a safeguard such as
    /// the price guard); the Cancelled transition keeps it.</summary>
    public string? CancelReason { get; set; }

    /// <summary>The unit price the retailer quoted when it confirmed, in <see cref="Currency"/>.</summary>
    public decimal? UnitPrice { get; set; }

    /// <summary>What the order counts against the household's monthly spend limit (null: the household has none).</summary>
    public decimal? Amount { get; set; }

    /// <summary>The currency of <see cref="Amount"/> and <see cref="UnitPrice"/>.</summary>
    public string? Currency { get; set; }

    /// <summary>The month ("yyyy-MM", UTC) <see cref="Amount"/> counts in.</summary>
    public string? SpendMonth { get; set; }

    /// <summary>0 while with the instruction's own retailer; n once it fell back to the instruction's n-th fallback
    /// (each retailer sees its own idempotency key: the OrderRef, then "{OrderRef}-{n}").</summary>
    public int RetailerIndex { get; set; }

    /// <summary>Every state it has been in, oldest first.</summary>
    public List<OrderTransition> History { get; set; } = [];

    /// <summary>True while Placed, Submitted, Confirmed or Shipped.</summary>
    public bool IsOpen => OrderLifecycle.IsOpen(State);
}

/// <summary>A state an order entered, and when.</summary>
public sealed class OrderTransition
{
    /// <summary>The state entered.</summary>
    public OrderState State { get; set; }

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Who or what moved it (a device, a user, a retailer's name).</summary>
    public string By { get; set; } = string.Empty;

    /// <summary>household, retailer or gateway (<see cref="OrderSources"/>).</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>Why, when there is more to say than the state (a retailer's refusal, a failure).</summary>
    public string? Reason { get; set; }
}
