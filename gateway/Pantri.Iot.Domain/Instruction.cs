namespace Pantri.Iot.Domain;

/// <summary>What to re-order (product, retailer, quantity) for a household, the devices paired with it, and —
/// when tracked — its inventory.</summary>
public sealed class Instruction
{
    /// <summary>The public Instruction_Ref.</summary>
    public long Ref { get; set; }

    /// <summary>The household.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>Product to order.</summary>
    public string Product { get; set; } = string.Empty;

    /// <summary>Retailer to order from.</summary>
    public string Retailer { get; set; } = string.Empty;

    /// <summary>How many to order.</summary>
    public int Quantity { get; set; } = 1;

    /// <summary>Devices allowed to trigger it or report its level.</summary>
    public List<string> DeviceIds { get; set; } = [];

    /// <summary>Inventory tracking, or null for a plain re-order instruction.</summary>
    public Tracking? Tracking { get; set; }

    /// <summary>True/false: its orders wait (or not) for the household's approval; null follows the household.</summary>
    public bool? ApprovalRequired { get; set; }

    /// <summary>Nothing is ordered for it before this time.</summary>
    public DateTimeOffset? PausedUntil { get; set; }

    /// <summary>Price guard: the most one unit may cost, in the household's currency; a confirmation above it is
    /// cancelled at the retailer.</summary>
    public decimal? MaxUnitPrice { get; set; }

    /// <summary>Retailers to fall back on, in order, when the one before definitely rejects an order (each with its
    /// own product reference). Elements are replaced, never changed in place.</summary>
    public List<RetailerChoice> Fallbacks { get; set; } = [];
}

/// <summary>A retailer an instruction may order from, and the product as that retailer names it.</summary>
public sealed class RetailerChoice
{
    /// <summary>The retailer's name (as configured under <c>Pantri:Retailers</c>).</summary>
    public string Retailer { get; set; } = string.Empty;

    /// <summary>The product as this retailer knows it.</summary>
    public string Product { get; set; } = string.Empty;
}
