using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Events;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary><c>GET /v1/events</c>: the household's events as server-sent events (<c>text/event-stream</c>), for its app
/// — <c>event: approval-requested|order|refused</c>, <c>id</c>, one line of JSON <c>data</c>. Authorised by
/// <c>User_Auth</c>; only the token's household's events are sent. Live only: nothing is replayed, so a client that
/// (re)connects reads the current state with <c>GET /v1/orders</c>.</summary>
public static class EventStreamEndpoint
{
    private static readonly byte[] Connected = ": connected\n\n"u8.ToArray();
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();
    private static readonly byte[] EndOfEvent = "\n\n"u8.ToArray();

    /// <summary>Maps the stream.</summary>
    public static IEndpointRouteBuilder MapPantriEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", StreamAsync).RequireAuthorization().RequireRateLimiting(HttpApiBuilderExtensions.SetupPolicy)
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream");
        return app;
    }

    private static async Task StreamAsync(HttpContext http, ClaimsPrincipal user, AccountClaims claims, HouseholdEvents events, IOptions<EventOptions> options, IHostApplicationLifetime lifetime)
    {
        if (claims.AccountOf(user) is not { } account)
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        var (subscription, refusal) = events.Subscribe(account);
        if (subscription is null)
        {
            await Problems.Refused(refusal, refusal == StatusCodes.Status429TooManyRequests
                ? "this household already has as many open event streams as it may"
                : "the gateway holds as many event streams as it may; try again later").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        using (subscription)
        {
            // The stream ends with the client, or when the gateway stops (Kestrel would otherwise wait for it).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
            var response = http.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            try
            {
                await response.Body.WriteAsync(Connected, stop.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                long id = 0;
                var keepAlive = options.Value.KeepAlive;
                while (true)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    wait.CancelAfter(keepAlive);
                    bool more;
                    try
                    {
                        more = await subscription.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        await response.Body.WriteAsync(KeepAlive, stop.Token).ConfigureAwait(false);
                        await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                        continue;
                    }

                    if (!more)
                    {
                        return;
                    }

                    while (subscription.Reader.TryRead(out var item))
                    {
                        var head = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"event: {item.Type}\nid: {++id}\ndata: "));
                        await response.Body.WriteAsync(head, stop.Token).ConfigureAwait(false);
                        await response.Body.WriteAsync(item.Data, stop.Token).ConfigureAwait(false);
                        await response.Body.WriteAsync(EndOfEvent, stop.Token).ConfigureAwait(false);
                    }

                    await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The client left or the gateway is stopping: the stream simply ends.
            }
        }
    }
}
