using System.Collections.Concurrent;

namespace Pantri.Iot.Broker;

/// <summary>The sessions that hold a subscription below <c>pantri/v1/ops/</c>. Only the ops credential may subscribe
/// there, so this is a handful of dashboards, not the fleet: publishing to ops walks this set instead of every
/// session. An entry is the session's own <see cref="SessionSubscriptions"/>; it is added on an ops SUBSCRIBE and
/// removed when that client disconnects, or when a publish finds its session gone or replaced (a takeover keeps the
/// session when the new connection did not ask for a clean start, so a takeover alone does not remove it).</summary>
internal sealed class OpsSessions
{
    private readonly ConcurrentDictionary<SessionSubscriptions, byte> _sessions = new(ReferenceEqualityComparer.Instance);

    /// <summary>The current entries (a snapshot; safe to enumerate while they change).</summary>
    public ICollection<SessionSubscriptions> Snapshot => _sessions.Keys;

    // ConcurrentDictionary.IsEmpty takes every lock of the dictionary when it is empty, and every presence message asks:
    // in a reconnect storm with no dashboard open that was thousands of all-lock acquisitions a second.
    private int _count;

    /// <summary>True when nobody subscribes under ops.</summary>
    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    /// <summary>Adds a session that subscribed under ops.</summary>
    public void Add(SessionSubscriptions subscriptions)
    {
        if (_sessions.TryAdd(subscriptions, 0))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Forgets a session.</summary>
    public void Remove(SessionSubscriptions subscriptions)
    {
        if (_sessions.TryRemove(subscriptions, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
