using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Ops;

/// <summary>How long the retained ops state keeps what is over, bound from <c>Pantri:Ops</c>.</summary>
public sealed class OpsOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Ops";

    /// <summary>How long a closed order (Delivered, Failed, Cancelled) stays retained on
    /// <c>pantri/v1/ops/orders/{OrderRef}</c> with its final state before it is cleared (default 1 hour; zero clears
    /// it as soon as its final state is published). The order itself stays in storage and in <c>GET /v1/orders</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan ClosedOrderRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most closed orders waiting for their retention to end (default 10,000): beyond it the oldest is cleared
    /// at once, so neither the waiting list nor the broker's retained store grows with the order rate.</summary>
    [Range(1, 1_000_000)]
    public int MaxPendingClears { get; set; } = 10_000;
}
