using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Wires the HTTP API's bounds: the body size limit and the per-household rate limit of setup calls.</summary>
public static class HttpApiBuilderExtensions
{
    /// <summary>The rate-limiting policy of setup calls: a token bucket per household (the account claim).</summary>
    public const string SetupPolicy = "pantri-setup";

    /// <summary>Registers <see cref="HttpApiOptions"/> and the setup rate limiter. The app must call
    /// <c>UseRateLimiter()</c> after authentication, so the limiter sees the household.</summary>
    public static IHostApplicationBuilder AddPantriHttpApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<HttpApiOptions>().BindConfiguration(HttpApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<HttpApiOptions>, AccountClaims>((limiter, api, claims) =>
        {
            var limits = api.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1.0 / limits.SetupRequestsPerMinute);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
            limiter.AddPolicy(SetupPolicy, http => RateLimitPartition.GetTokenBucketLimiter(
                claims.AccountOf(http.User) ?? string.Empty,
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.SetupRequestBurst,
                    TokensPerPeriod = limits.SetupRequestsPerMinute,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });
        return builder;
    }

    /// <summary>Limits the request body of the endpoints <paramref name="endpoints"/> builds to
    /// <see cref="HttpApiOptions.MaxRequestBodyBytes"/>: a larger body is refused with 413 as it is read.</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder endpoints, IEndpointRouteBuilder app)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(app);
        var limit = app.ServiceProvider.GetRequiredService<IOptions<HttpApiOptions>>().Value.MaxRequestBodyBytes;
        return endpoints.WithMetadata(new BodyLimit(limit));
    }

    private sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}
