using System.Collections.Concurrent;
using System.Net;

namespace Pantri.Iot.Broker;

/// <summary>Throttles wrong-credential logins: per client id at a source address and per source address. Past either
/// limit within a minute, further CONNECTs from there are refused for the back-off without checking the key, so
/// guessing costs the attacker the back-off and the broker no key check.</summary>
/// <remarks>
/// <para>A client id is throttled only at the addresses its failures came from. A global lock per client id would let
/// anyone who knows a device's id (it is in its topics) lock the device out for as long as they keep guessing, from
/// anywhere; keyed with the address, the real device at its own address keeps working. The price: a distributed
/// attacker gets <c>maxPerClientId</c> guesses per id per address per minute (and <c>maxPerAddress</c> per address in
/// total). Device keys are random 128-bit secrets, so that rate is no threat to them; the ops password is chosen by a
/// person and must be long and random for the same reason.</para>
/// <para>Addresses of proxies in front (<c>ProxyAddresses</c>) are never throttled as addresses (every client behind
/// them shares one), but a client id failing through a proxy is throttled there, i.e. everywhere behind it.</para>
/// <para>State is bounded: failures are kept for one window, keys are at most <see cref="MaxKeyLength"/> characters
/// of the client id, and at most <see cref="MaxEntries"/> entries per table are kept (expired ones are pruned; when
/// still full, new client ids are not tracked, while the per-address limit still holds).</para>
/// </remarks>
public sealed class LoginThrottle(TimeProvider time, int maxPerClientId, int maxPerAddress, TimeSpan backoff, IReadOnlySet<IPAddress> proxyAddresses)
{
    /// <summary>Failures are counted over this window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Most entries kept per table.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>Characters of a client id used as its key (longer ids are never valid identities).</summary>
    public const int MaxKeyLength = 128;

    private readonly ConcurrentDictionary<IPAddress, Entry> _addresses = new();
    private readonly ConcurrentDictionary<(string ClientId, IPAddress Address), Entry> _clientIds = new();
    private long _lastPrune;

    /// <summary>True when a CONNECT from <paramref name="address"/> with <paramref name="clientId"/> must be refused
    /// without checking its credentials.</summary>
    public bool IsThrottled(string clientId, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        return (!proxyAddresses.Contains(address) && _addresses.TryGetValue(address, out var byAddress) && byAddress.IsLocked(now))
            || (_clientIds.TryGetValue(Key(clientId, address), out var byId) && byId.IsLocked(now));
    }

    /// <summary>Counts a login refused for its credentials.</summary>
    public void Failed(string clientId, IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (!proxyAddresses.Contains(address))
        {
            GetOrAdd(_addresses, address)?.Fail(now, maxPerAddress, backoff);
        }

        GetOrAdd(_clientIds, Key(clientId, address))?.Fail(now, maxPerClientId, backoff);
    }

    /// <summary>A successful login: the client id's failures at that address are forgotten (the address's are not).</summary>
    public void Succeeded(string clientId, IPAddress? address)
    {
        if (address is not null)
        {
            _clientIds.TryRemove(Key(clientId, address), out _);
        }
    }

    /// <summary>How many entries each table holds (for tests).</summary>
    internal (int Addresses, int ClientIds) EntryCounts => (_addresses.Count, _clientIds.Count);

    private static (string, IPAddress) Key(string clientId, IPAddress address) =>
        (clientId.Length <= MaxKeyLength ? clientId : clientId[..MaxKeyLength], address);

    private Entry? GetOrAdd<TKey>(ConcurrentDictionary<TKey, Entry> table, TKey key)
        where TKey : notnull
    {
        if (table.TryGetValue(key, out var entry))
        {
            return entry;
        }

        if (table.Count >= MaxEntries)
        {
            Prune(table);
            if (table.Count >= MaxEntries)
            {
                return null;
            }
        }

        return table.GetOrAdd(key, static _ => new Entry());
    }

    /// <summary>Removes entries whose window and lock are over; at most once a second, so a flood of new keys cannot
    /// turn every failure into a scan.</summary>
    private void Prune<TKey>(ConcurrentDictionary<TKey, Entry> table)
        where TKey : notnull
    {
        var last = Interlocked.Read(ref _lastPrune);
        var nowTicks = time.GetTimestamp();
        if (time.GetElapsedTime(last, nowTicks) < TimeSpan.FromSeconds(1) && last != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _lastPrune, nowTicks);
        var now = time.GetUtcNow();
        foreach (var (key, entry) in table)
        {
            if (entry.IsExpired(now))
            {
                table.TryRemove(KeyValuePair.Create(key, entry));
            }
        }
    }

    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private DateTimeOffset _windowStart;
        private int _failures;
        private DateTimeOffset _lockedUntil;

        public bool IsLocked(DateTimeOffset now)
        {
            lock (_lock)
            {
                return now < _lockedUntil;
            }
        }

        public bool IsExpired(DateTimeOffset now)
        {
            lock (_lock)
            {
                return now >= _lockedUntil && now - _windowStart >= Window;
            }
        }

        public void Fail(DateTimeOffset now, int max, TimeSpan backoff)
        {
            lock (_lock)
            {
                if (now - _windowStart >= Window)
                {
                    _windowStart = now;
                    _failures = 0;
                }

                if (++_failures >= max)
                {
                    _lockedUntil = now + backoff;
                }
            }
        }
    }
}
