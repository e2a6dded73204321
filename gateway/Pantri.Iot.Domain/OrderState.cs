using System.Diagnostics.CodeAnalysis;

namespace Pantri.Iot.Domain;

/// <summary>Where an order is in its life. Placed, Submitted and Confirmed are open; the rest are closed.</summary>
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

    /// <summary>The retailer refused it or it could not be sent.</summary>
    Failed,

    /// <summary>Cancelled by the household.</summary>
    Cancelled,
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
