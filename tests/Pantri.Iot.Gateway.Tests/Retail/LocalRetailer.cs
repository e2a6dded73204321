using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pantri.Iot.Gateway.Retail;

namespace Pantri.Iot.Gateway.Tests.Retail;

/// <summary>A retailer standing in for a real one: Kestrel on a free loopback port, which verifies each request's
/// signature and answers as the test scripts it (one answer per attempt, then 200).</summary>
internal sealed class LocalRetailer : IAsyncDisposable
{
    public const string Secret = "test-retailer-secret-0123456789";
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _cancelScript = new();

    private LocalRetailer(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Cancels received at <c>/orders/{OrderRef}/cancel</c> (by default accepted with 200).</summary>
    public ConcurrentQueue<Received> Cancels { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static async Task<LocalRetailer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var retailer = new LocalRetailer(app);
        app.MapPost("/orders", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var signed = WebhookSignature.Verify(Secret, http.Request.Headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow);
            retailer.Requests.Enqueue(new Received(http.Request.Headers["Idempotency-Key"].ToString(), System.Text.Encoding.UTF8.GetString(body), signed, DateTimeOffset.UtcNow));
            if (!signed)
            {
                http.Response.StatusCode = 401;
                return;
            }

            if (retailer._script.TryDequeue(out var answer))
            {
                await answer(http);
                return;
            }

            http.Response.StatusCode = 200;
            await http.Response.WriteAsync("""{"Status":"Submitted"}""");
        });
        app.MapPost("/orders/{orderRef:long}/cancel", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var signed = WebhookSignature.Verify(Secret, http.Request.Headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow);
            retailer.Cancels.Enqueue(new Received(http.Request.Headers["Idempotency-Key"].ToString(), System.Text.Encoding.UTF8.GetString(body), signed, DateTimeOffset.UtcNow));
            if (!signed)
            {
                http.Response.StatusCode = 401;
                return;
            }

            if (retailer._cancelScript.TryDequeue(out var answer))
            {
                await answer(http);
                return;
            }

            http.Response.StatusCode = 200;
            await http.Response.WriteAsync("""{"Status":"Cancelled"}""");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        retailer.Url = new Uri(new Uri(address), "/orders");
        return retailer;
    }

    /// <summary>True when no request arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> QuietAsync(TimeSpan quiet)
    {
        var before = Requests.Count;
        await Task.Delay(quiet);
        return Requests.Count == before;
    }

    /// <summary>The next attempts' answers, in order.</summary>
    public void Then(params Func<HttpContext, Task>[] answers)
    {
        foreach (var answer in answers)
        {
            _script.Enqueue(answer);
        }
    }

    /// <summary>The next cancels' answers, in order.</summary>
    public void ThenCancel(params Func<HttpContext, Task>[] answers)
    {
        foreach (var answer in answers)
        {
            _cancelScript.Enqueue(answer);
        }
    }

    public static Func<HttpContext, Task> Status(int code, string? body = null, string? retryAfter = null) => async http =>
    {
        http.Response.StatusCode = code;
        if (retryAfter is not null)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }

        if (body is not null)
        {
            await http.Response.WriteAsync(body);
        }
    };

    public static Func<HttpContext, Task> Reset => http =>
    {
        http.Abort();
        return Task.CompletedTask;
    };

    public static Func<HttpContext, Task> Stall(TimeSpan delay) => async http =>
    {
        try
        {
            await Task.Delay(delay, http.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    };

    /// <summary>Gateway arguments that make <paramref name="retailer"/> this webhook, with quick retries.</summary>
    public string[] Args(string retailer) =>
    [
        "--Pantri:Retail:Enabled=true",
        "--Pantri:Retail:PollInterval=00:00:00.050",
        $"--Pantri:Retailers:{retailer}:Kind=Webhook",
        $"--Pantri:Retailers:{retailer}:Url={Url}",
        $"--Pantri:Retailers:{retailer}:Secret={Secret}",
        $"--Pantri:Retailers:{retailer}:RetryDelay=00:00:00.050",
        $"--Pantri:Retailers:{retailer}:AttemptTimeout=00:00:01.500",
        $"--Pantri:Retailers:{retailer}:MaxRetries=5",
    ];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Received(string IdempotencyKey, string Body, bool Signed, DateTimeOffset At);
}
