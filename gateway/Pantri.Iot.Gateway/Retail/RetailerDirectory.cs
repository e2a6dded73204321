using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>The connector of each retailer: the configured webhook, or the sandbox for any retailer not configured
/// (the embedded default, and the demo household's <c>demo-retailer</c>).</summary>
public sealed class RetailerDirectory : IDisposable
{
    private readonly Dictionary<string, WebhookConnector> _webhooks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RetailerOptions> _options;

    /// <summary>Builds one connector per configured webhook retailer.</summary>
    public RetailerDirectory(IOptions<RetailersOptions> retailers, IOptions<RetailOptions> retail, SandboxRetailer sandbox, TimeProvider time, RetailMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(retailers);
        ArgumentNullException.ThrowIfNull(retail);
        Sandbox = sandbox;
        _options = retailers.Value.Retailers;
        foreach (var (name, options) in _options)
        {
            if (options.Kind == RetailerKind.Webhook)
            {
                _webhooks[name] = new WebhookConnector(name, options, retail.Value.CallbackBaseUrl, time, metrics);
            }
        }
    }

    /// <summary>The sandbox retailer.</summary>
    public SandboxRetailer Sandbox { get; }

    /// <summary>The connector that serves <paramref name="retailer"/>.</summary>
    public IRetailerConnector ConnectorOf(string retailer) => _webhooks.TryGetValue(retailer, out var webhook) ? webhook : Sandbox;

    /// <summary>True when the sandbox serves <paramref name="retailer"/>.</summary>
    public bool IsSandbox(string retailer) => !_webhooks.ContainsKey(retailer);

    /// <summary>The retailer's settings, when it is configured.</summary>
    public RetailerOptions? OptionsOf(string retailer) => _options.GetValueOrDefault(retailer);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var webhook in _webhooks.Values)
        {
            webhook.Dispose();
        }
    }
}
