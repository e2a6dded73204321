using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>How orders reach a retailer.</summary>
public enum RetailerKind
{
    /// <summary>The embedded test retailer: nothing is bought.</summary>
    Sandbox,

    /// <summary>A signed HTTP POST to the retailer's URL.</summary>
    Webhook,
}

/// <summary>One retailer, bound from <c>Pantri:Retailers:{name}</c>. A retailer that is not configured is served by
/// the sandbox.</summary>
public sealed class RetailerOptions
{
    /// <summary>Configuration section holding one entry per retailer name.</summary>
    public const string SectionName = "Pantri:Retailers";

    /// <summary>Sandbox (default) or Webhook.</summary>
    public RetailerKind Kind { get; set; } = RetailerKind.Sandbox;

    /// <summary>Webhook: where orders are POSTed (required for Webhook).</summary>
    public Uri? Url { get; set; }

    /// <summary>Webhook: where a household's cancels are POSTed (default: <c>{Url}/{OrderRef}/cancel</c>).</summary>
    public Uri? CancelUrl { get; set; }

    /// <summary>Webhook: the shared secret that signs our requests and the retailer's callbacks (at least 16
    /// characters; required for Webhook). Never logged.</summary>
    [MinLength(16)]
    public string? Secret { get; set; }

    /// <summary>Webhook: the longest one attempt may take (default 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Webhook: retries of one submission within a dispatch round (default 4), exponential back-off with
    /// jitter from <see cref="RetryDelay"/>, or the retailer's <c>Retry-After</c> when it sends one.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>Webhook: the first retry's delay (default 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Webhook: the longest wait between attempts, <c>Retry-After</c> included (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Webhook: how long the circuit stays open after the retailer kept failing (default 30 s); meanwhile
    /// its orders wait and other retailers' orders flow.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Webhook: the fewest attempts within 30 s before the circuit may open (default 10); it opens when at
    /// least half of them failed.</summary>
    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>Webhook: a placed order the retailer has not accepted this long after it was placed becomes Failed
    /// (default 1 hour), with the last error as its reason.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Deadline { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The refused setting, or null when the entry is usable.</summary>
    public string? Problem()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            return results[0].ErrorMessage;
        }

        return Kind == RetailerKind.Webhook && (Url is not { IsAbsoluteUri: true } || Url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(Secret)
                || (CancelUrl is not null && (!CancelUrl.IsAbsoluteUri || CancelUrl.Scheme is not ("http" or "https"))))
            ? "a Webhook retailer needs an absolute http(s) Url (and CancelUrl, when set) and a Secret"
            : null;
    }
}

/// <summary>Every configured retailer by name (<c>Pantri:Retailers</c>).</summary>
public sealed class RetailersOptions
{
    /// <summary>The retailers, by the name instructions use.</summary>
    public Dictionary<string, RetailerOptions> Retailers { get; } = new(StringComparer.Ordinal);
}
