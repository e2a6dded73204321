using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Events;

/// <summary>Hands each household's events to its open streams, after the commit that made them (the writer calls
/// <see cref="Publish"/>; it never blocks there). Every stream has a bounded buffer; one that falls behind is closed,
/// not allowed to grow. Streams are counted per household and in total, so no client can hold unbounded resources.</summary>
public sealed class HouseholdEvents(IOptions<EventOptions> options, HouseholdWebhooks? webhooks = null)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Subscription, byte>> _streams = new(StringComparer.Ordinal);
    private readonly Lock _admission = new();
    private int _open;

    /// <summary>True when <paramref name="accountId"/> has an open stream (read by the writer for every order change:
    /// one dictionary lookup).</summary>
    public bool IsListening(string accountId) => _streams.ContainsKey(accountId) || webhooks?.Has(accountId) == true;

    /// <summary>The households' webhooks, when configured.</summary>
    public HouseholdWebhooks? Webhooks => webhooks;

    /// <summary>Open streams, all households together.</summary>
    public int OpenStreams => Volatile.Read(ref _open);

    /// <summary>Opens a stream of <paramref name="accountId"/>'s events, or answers why not: 429 (the household holds
    /// its maximum) or 503 (the gateway holds its maximum).</summary>
    public (Subscription? Stream, int Refusal) Subscribe(string accountId)
    {
        var settings = options.Value;
        lock (_admission)
        {
            // Checked before a household gets an entry: an entry means "listening" to the writer.
            if (_streams.TryGetValue(accountId, out var existing) && existing.Count >= settings.MaxStreamsPerHousehold)
            {
                return (null, StatusCodes.Status429TooManyRequests);
            }

            if (_open >= settings.MaxStreams)
            {
                return (null, StatusCodes.Status503ServiceUnavailable);
            }

            var household = _streams.GetOrAdd(accountId, _ => new ConcurrentDictionary<Subscription, byte>());

            var subscription = new Subscription(this, accountId, settings.StreamBuffer);
            household[subscription] = 0;
            _open++;
            return (subscription, 0);
        }
    }

    /// <summary>Delivers committed events to the streams of their households.</summary>
    public void Publish(IReadOnlyList<HouseholdEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var item in events)
        {
            webhooks?.Enqueue(item);
            if (!_streams.TryGetValue(item.AccountId, out var household))
            {
                continue;
            }

            foreach (var subscription in household.Keys)
            {
                if (!subscription.Writer.TryWrite(item))
                {
                    // Too far behind: close it rather than buffer without bound; the client reconnects.
                    subscription.Writer.TryComplete();
                }
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_admission)
        {
            if (_streams.TryGetValue(subscription.AccountId, out var household) && household.TryRemove(subscription, out _))
            {
                _open--;
                if (household.IsEmpty)
                {
                    _streams.TryRemove(subscription.AccountId, out _);
                }
            }
        }
    }

    /// <summary>One open stream; disposing it closes it.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly HouseholdEvents _owner;
        private readonly Channel<HouseholdEvent> _channel;

        internal Subscription(HouseholdEvents owner, string accountId, int buffer)
        {
            _owner = owner;
            AccountId = accountId;
            _channel = Channel.CreateBounded<HouseholdEvent>(new BoundedChannelOptions(buffer)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = false,
            });
        }

        /// <summary>The household.</summary>
        public string AccountId { get; }

        /// <summary>Its events, in commit order; completed when it fell behind.</summary>
        public ChannelReader<HouseholdEvent> Reader => _channel.Reader;

        internal ChannelWriter<HouseholdEvent> Writer => _channel.Writer;

        /// <inheritdoc/>
        public void Dispose()
        {
            _channel.Writer.TryComplete();
            _owner.Remove(this);
        }
    }
}
