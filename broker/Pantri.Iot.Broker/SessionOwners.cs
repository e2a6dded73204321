using System.Collections.Concurrent;

namespace Pantri.Iot.Broker;

/// <summary>Which identity created the session behind each client id. MQTTnet resumes a session for any client that
/// connects with its client id without asking for a clean start, and it keeps the session's items (our
/// <see cref="ClientIdentity"/> among them) from the connection that created it; so a session must only ever be
/// claimed by that identity. The client-id namespaces already make a clash impossible (a device's client id is its
/// DeviceId, ops ids start <c>ops-</c>, which no DeviceId may); this is the check behind them.</summary>
internal sealed class SessionOwners
{
    private readonly ConcurrentDictionary<string, ClientIdentity> _owners = new(StringComparer.Ordinal);

    /// <summary>True when a session with <paramref name="clientId"/> exists and was created by another identity than
    /// <paramref name="identity"/>.</summary>
    public bool IsOwnedByAnother(string clientId, ClientIdentity identity) =>
        _owners.TryGetValue(clientId, out var owner) && owner != identity;

    /// <summary>True while a session with <paramref name="clientId"/> exists (whoever owns it).</summary>
    public bool IsInUse(string clientId) => _owners.ContainsKey(clientId);

    /// <summary>Records the owner of a session a client is now connected to.</summary>
    public void Connected(string clientId, ClientIdentity owner) => _owners[clientId] = owner;

    /// <summary>Forgets a deleted session (unless the id already belongs to a newer session of another owner).</summary>
    public void Deleted(string clientId, ClientIdentity? owner)
    {
        if (owner is not null)
        {
            _owners.TryRemove(KeyValuePair.Create(clientId, owner));
        }
    }
}
