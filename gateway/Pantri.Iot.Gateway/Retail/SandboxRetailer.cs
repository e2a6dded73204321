using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>The embedded test retailer (Amazon's test orders): accepts every order, buys nothing, and walks each one
/// through Confirmed → Shipped → Delivered, one step every <see cref="RetailOptions.SandboxStep"/> after the order's
/// last change. It keeps no state of its own: the next step is derived from the stored order, so a restart (or a
/// kill -9) carries on where the order is, and accepting the same order twice is harmless.</summary>
public sealed class SandboxRetailer(IOptions<RetailOptions> options) : IRetailerConnector
{
    /// <summary>The reason recorded on the sandbox's transitions.</summary>
    public const string Note = "sandbox retailer: a test order, nothing is bought";

    private static readonly (OrderState From, OrderState To)[] Steps =
    [
        (OrderState.Submitted, OrderState.Confirmed),
        (OrderState.Confirmed, OrderState.Shipped),
        (OrderState.Shipped, OrderState.Delivered),
    ];

    /// <inheritdoc/>
    public Task<SubmissionResult> SubmitAsync(Order order, CancellationToken cancellationToken) =>
        Task.FromResult(new SubmissionResult(OrderState.Submitted, Note));

    /// <summary>Accepts a cancel until the order shipped, as a shop would.</summary>
    public Task<CancelResult> CancelAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        return Task.FromResult(order.State is OrderState.Shipped or OrderState.Delivered
            ? new CancelResult(false, "sandbox retailer: already shipped")
            : new CancelResult(true, "sandbox retailer: cancelled at the household's request"));
    }

    /// <summary>The steps due at <paramref name="now"/>: each order of a retailer the sandbox <paramref name="serves"/>
    /// whose last change is at least one step old, with the state it moves to.</summary>
    public IEnumerable<(Order Order, OrderState To)> DueSteps(IGatewayStore store, Func<string, bool> serves, DateTimeOffset now, int limit)
    {
        ArgumentNullException.ThrowIfNull(store);
        var step = options.Value.SandboxStep;
        foreach (var (from, to) in Steps)
        {
            foreach (var order in store.FindOrdersInState(from, limit))
            {
                if (order.UpdatedAt + step <= now && serves(order.Retailer))
                {
                    yield return (order, to);
                }
            }
        }
    }
}
