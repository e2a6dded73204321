using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>How placed orders reach the retailer, bound from <c>Pantri:Retail</c>.</summary>
public sealed class RetailOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Retail";

    /// <summary>When false the dispatcher sends nothing: placed orders stay queued in the outbox (and in state
    /// Placed) until a gateway with dispatch on starts (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the dispatcher looks for queued submissions and due sandbox steps (default 250 ms).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The gateway's public base URL (e.g. <c>https://pantri.example.com/</c>): webhook retailers get
    /// <c>{CallbackBaseUrl}v1/retailers/{retailer}/orders/{OrderRef}/status</c> as the order's CallbackUrl. Unset: no
    /// CallbackUrl is sent (the retailer is told the URL out of band).</summary>
    public Uri? CallbackBaseUrl { get; set; }

    /// <summary>How long the sandbox retailer waits before each step of an accepted order: Submitted → Confirmed →
    /// Shipped → Delivered (default 3 s, so the whole lifecycle takes about 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan SandboxStep { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The unit price the sandbox retailer quotes when it confirms an order (unset: it quotes none), to try
    /// the spend limit and the price guard without a real retailer.</summary>
    [Range(typeof(decimal), "0", "1000000")]
    public decimal? SandboxUnitPrice { get; set; }

    /// <summary>The currency of <see cref="SandboxUnitPrice"/> (default EUR).</summary>
    [RegularExpression("^[A-Z]{3}\\z")]
    public string SandboxCurrency { get; set; } = "EUR";
}
