using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Events;

/// <summary>The household event stream, bound from <c>Pantri:Events</c>.</summary>
public sealed class EventOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Events";

    /// <summary>Open <c>GET /v1/events</c> streams one household may hold (default 8); one more answers 429.</summary>
    [Range(1, 100)]
    public int MaxStreamsPerHousehold { get; set; } = 8;

    /// <summary>Open streams of all households together (default 1,000); one more answers 503.</summary>
    [Range(1, 100_000)]
    public int MaxStreams { get; set; } = 1000;

    /// <summary>Events one stream may have waiting; a client that falls further behind is disconnected (it reconnects
    /// and reads the current state with <c>GET /v1/orders</c>) instead of holding memory (default 256).</summary>
    [Range(1, 10_000)]
    public int StreamBuffer { get; set; } = 256;

    /// <summary>How often an idle stream gets a comment line, so proxies and clients see it alive (default 15 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Household webhooks may reach loopback and private-network addresses (default false: a household's URL
    /// must not make the gateway call into its own network). For development and tests.</summary>
    public bool WebhookAllowPrivateNetworks { get; set; }

    /// <summary>The longest one webhook POST may take (default 5 s; one retry).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events waiting for webhooks, all households together (default 10,000); beyond it they are dropped.</summary>
    [Range(1, 1_000_000)]
    public int WebhookQueue { get; set; } = 10_000;
}
