using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>Sends an order to a retailer. An implementation must be safe to call more than once for one order (the
/// dispatcher resends after a crash between the retailer's answer and our commit): the order's ref is its
/// idempotency key.</summary>
public interface IRetailerConnector
{
    /// <summary>Submits <paramref name="order"/>; returns the state the retailer's answer puts it in (Submitted,
    /// Confirmed or Rejected) and the retailer's reason, or throws when the retailer could not be reached.</summary>
    Task<SubmissionResult> SubmitAsync(Order order, CancellationToken cancellationToken);
}

/// <summary>A retailer's answer to a submission.</summary>
/// <param name="State">Submitted, Confirmed or Rejected.</param>
/// <param name="Reason">The retailer's words, if any.</param>
public sealed record SubmissionResult(OrderState State, string? Reason);
