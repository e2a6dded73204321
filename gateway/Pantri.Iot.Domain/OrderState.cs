using System.Diagnostics.CodeAnalysis;

namespace Pantri.Iot.Domain;

/// <summary>Where an order is in its life. Placed, Submitted, Confirmed and Shipped are open; the rest are closed.
/// Stored by name, so new states are appended.</summary>
public enum OrderState
{
    /// <summary>Recorded by the gateway; not yet sent to the retailer.</summary>
    Placed,

    /// <summary>Sent to the retailer.</summary>
    Submitted,

    /// <summary>The retailer accepted it.</summary>
    Confirmed,

    /// <summary>Arrived.</summary>
    Delivered,

    /// <summary>It could not be sent (the retailer stayed unreachable), or it went wrong after it was sent.</summary>
    Failed,

    /// <summary>Cancelled by the household.</summary>
    Cancelled,

    /// <summary>On its way: the retailer dispatched it (a household can no longer cancel it).</summary>
    Shipped,

    /// <summary>The retailer refused it for good (the reason is on the transition).</summary>
    Rejected,

    /// <summary>Waiting for the household to approve it (approval mode); not sent to any retailer until then.</summary>
    AwaitingApproval,
}

/// <summary>Order states as the API spells them.</summary>
public static class OrderStates
{
    private static readonly OrderState[] All = Enum.GetValues<OrderState>();

    /// <summary>Parses an order state by its exact name, in any letter case. Unlike <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/>
    /// it accepts no numbers ("1"), no flag lists ("Cancelled, Delivered") and no surrounding spaces.</summary>
    public static bool TryParse([NotNullWhen(true)] string? name, out OrderState state)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(name, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }
}
