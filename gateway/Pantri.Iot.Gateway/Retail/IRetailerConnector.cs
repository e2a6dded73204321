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

    /// <summary>Asks the retailer to cancel <paramref name="order"/>, which it was sent, at the household's request;
    /// returns whether it accepted and its reason, or throws <see cref="RetailerUnavailableException"/> when it could
    /// not be reached (the request stays queued). Safe to repeat: the retailer sees one idempotency key per cancel.</summary>
    Task<CancelResult> CancelAsync(Order order, CancellationToken cancellationToken);
}

/// <summary>A retailer's answer to a forwarded cancel.</summary>
/// <param name="Accepted">True: the retailer cancelled it; false: it refused (e.g. already shipped).</param>
/// <param name="Reason">The retailer's words, if any.</param>
public sealed record CancelResult(bool Accepted, string? Reason);

/// <summary>A retailer's answer to a submission.</summary>
/// <param name="State">Submitted, Confirmed or Rejected.</param>
/// <param name="Reason">The retailer's words, if any.</param>
/// <param name="UnitPrice">With Confirmed: the unit price it quoted, if it did.</param>
/// <param name="Currency">The quote's currency (null: the household's).</param>
public sealed record SubmissionResult(OrderState State, string? Reason, decimal? UnitPrice = null, string? Currency = null);
