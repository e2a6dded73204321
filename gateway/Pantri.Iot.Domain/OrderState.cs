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
