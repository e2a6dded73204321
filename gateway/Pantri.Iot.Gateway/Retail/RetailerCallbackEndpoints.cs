using System.Text.Json;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Entry.Http;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Retail;

/// <summary><c>POST /v1/retailers/{retailer}/orders/{OrderRef}/status</c>: a webhook retailer reports a status
/// (<c>{"State":"Shipped","Reason":"…"}</c>), signed like our requests to it (<see cref="WebhookSignature"/>, its own
/// secret). A wrong signature or a stale timestamp is a 401; an order of another retailer (or none) a 404; the same
/// report twice, or a report of a state the order already went through, changes nothing and answers 200 with the order
/// as it is; any other move the lifecycle refuses is a 409 problem.</summary>
public static class RetailerCallbackEndpoints
{
    private const int MaxBody = 16 * 1024;

    private static readonly OrderState[] Reportable =
        [OrderState.Confirmed, OrderState.Shipped, OrderState.Delivered, OrderState.Rejected, OrderState.Cancelled];

    /// <summary>Maps the callback endpoint (authorised by signature, not by <c>User_Auth</c>).</summary>
    public static IEndpointRouteBuilder MapRetailerCallbacks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/retailers/{retailer}/orders/{orderRef:long}/status", HandleAsync).AllowAnonymous()
            .WithDescription("Signed with the Pantri-Signature header instead of User_Auth.")
            .Accepts<RetailerStatusReport>("application/json")
            .Produces<Pantri.Iot.Contract.OrderStatus>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem();
        return app;
    }

    private static async Task<IResult> HandleAsync(
        string retailer,
        long orderRef,
        HttpContext http,
        RetailerDirectory retailers,
        IGatewayStore store,
        CommandWriter writer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (retailers.OptionsOf(retailer) is not { Kind: RetailerKind.Webhook, Secret: { } secret })
        {
            return Problems.Refused(StatusCodes.Status404NotFound, "no webhook retailer of this name");
        }

        var body = await ReadBodyAsync(http.Request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.Refused(StatusCodes.Status413PayloadTooLarge, $"the body is limited to {MaxBody} bytes");
        }

        if (!WebhookSignature.Verify(secret, http.Request.Headers[WebhookSignature.Header], body, time.GetUtcNow()))
        {
            return Problems.Refused(StatusCodes.Status401Unauthorized, $"missing or wrong {WebhookSignature.Header}, or its timestamp is not within {WebhookSignature.Tolerance} of ours");
        }

        if (!TryReadReport(body, out var state, out var reason, out var quoteValid, out var quote))
        {
            return Problems.Invalid("State", "State must be Confirmed, Shipped, Delivered, Rejected or Cancelled");
        }

        if (!quoteValid)
        {
            return Problems.Invalid("UnitPrice", "UnitPrice must be a number from 0 to 1000000 with at most 4 decimals, Currency three capital letters");
        }

        if (store.FindOrder(orderRef) is not { } before || !string.Equals(before.Retailer, retailer, StringComparison.Ordinal))
        {
            return Problems.Refused(StatusCodes.Status404NotFound, "no order with this ref for this retailer");
        }

        var outcome = await writer.SubmitAsync(new RetailerOrderUpdate(retailer, orderRef, state, OrderSources.Retailer, reason, quote?.UnitPrice, quote?.Currency), cancellationToken).ConfigureAwait(false);
        if (outcome is null)
        {
            return Problems.Refused(StatusCodes.Status503ServiceUnavailable, "storage unavailable; nothing was recorded, safe to retry");
        }

        var order = store.FindOrder(orderRef)!;
        if (outcome == OrderMoveOutcome.Moved || order.History.Any(h => h.State == state))
        {
            // Moved now, or a replay / late report of a state the order already went through: nothing changes.
            return Results.Ok(ContractViews.Order(order));
        }

        return Problems.Refused(StatusCodes.Status409Conflict, $"an order that is {order.State} cannot become {state}");
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBody)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static bool TryReadReport(byte[] body, out OrderState state, out string? reason, out bool quoteValid, out RetailerQuote? quote)
    {
        state = default;
        reason = null;
        quoteValid = true;
        quote = null;
        string? name = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            quoteValid = RetailerQuote.TryRead(document.RootElement, out quote);

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                if (property.Name.Equals("State", StringComparison.OrdinalIgnoreCase))
                {
                    name = property.Value.GetString();
                }
                else if (property.Name.Equals("Reason", StringComparison.OrdinalIgnoreCase))
                {
                    reason = property.Value.GetString();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return OrderStates.TryParse(name, out state) && Reportable.Contains(state);
    }
}
