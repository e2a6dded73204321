using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Events;

/// <summary>The households' event webhooks (URL and signing secret), kept in memory from the committed safeguards, and
/// the bounded queue of events waiting to be POSTed. Delivery is best effort: an event that does not fit the queue is
/// dropped and counted (the webhook is a convenience beside <c>GET /v1/events</c>, not a durable outbox).</summary>
public sealed class HouseholdWebhooks(IOptions<EventOptions> options)
{
    private readonly ConcurrentDictionary<string, (Uri Url, string Secret)> _hooks = new(StringComparer.Ordinal);
    private readonly Channel<HouseholdEvent> _queue = Channel.CreateBounded<HouseholdEvent>(new BoundedChannelOptions(options.Value.WebhookQueue)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private long _dropped;

    /// <summary>Events dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The queue the sender reads.</summary>
    public ChannelReader<HouseholdEvent> Queue => _queue.Reader;

    /// <summary>True when <paramref name="accountId"/> has a webhook.</summary>
    public bool Has(string accountId) => _hooks.ContainsKey(accountId);

    /// <summary>The webhook of <paramref name="accountId"/>, if any.</summary>
    public (Uri Url, string Secret)? Of(string accountId) => _hooks.TryGetValue(accountId, out var hook) ? hook : null;

    /// <summary>Replaces every webhook with those of <paramref name="safeguards"/> (at start, after a reload).</summary>
    public void Load(IEnumerable<HouseholdSafeguards>? safeguards)
    {
        _hooks.Clear();
        Apply(safeguards ?? []);
    }

    /// <summary>Applies committed safeguard changes.</summary>
    public void Apply(IEnumerable<HouseholdSafeguards> safeguards)
    {
        ArgumentNullException.ThrowIfNull(safeguards);
        foreach (var household in safeguards)
        {
            if (household.WebhookUrl is { } url && household.WebhookSecret is { } secret && Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                _hooks[household.AccountId] = (uri, secret);
            }
            else
            {
                _hooks.TryRemove(household.AccountId, out _);
            }
        }
    }

    /// <summary>Queues an event for its household's webhook, if it has one.</summary>
    public void Enqueue(HouseholdEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (Has(item.AccountId) && !_queue.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _dropped);
        }
    }
}
