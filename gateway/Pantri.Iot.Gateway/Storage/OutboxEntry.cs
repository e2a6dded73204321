namespace Pantri.Iot.Gateway.Storage;

/// <summary>A submission waiting to be sent to a retailer: written in the same transaction that places the order and
/// deleted in the one that records the retailer's answer, so a placed order is never left unsent, whatever crashes
/// when (the dispatcher reads what is left at start).</summary>
public sealed class OutboxEntry
{
    /// <summary>The order to submit (the document id).</summary>
    public long OrderRef { get; set; }

    /// <summary>The retailer it goes to.</summary>
    public string Retailer { get; set; } = string.Empty;

    /// <summary>When the order was placed: the dispatcher's deadline counts from here.</summary>
    public DateTimeOffset QueuedAt { get; set; }
}
