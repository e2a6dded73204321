using System.Collections.Concurrent;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Security;

/// <summary>Households, their users and the ops users in memory, for token validation and ops CONNECTs without a
/// storage read. Written by the command writer after each commit (so nothing is valid before it is committed), read by
/// any thread.</summary>
public sealed class IdentityDirectory(DeviceDirectory devices) : IOpsAuthenticator
{
    private readonly ConcurrentDictionary<string, bool> _households = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserRole> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _opsHashes = new(StringComparer.Ordinal);

    /// <summary>True when the household exists.</summary>
    public bool HouseholdExists(string accountId) => _households.ContainsKey(accountId);

    /// <summary>The role of <paramref name="userId"/> in <paramref name="accountId"/>, or null when they are not a user of it.</summary>
    public UserRole? RoleOf(string accountId, string userId) =>
        accountId.Length > 0 && _users.TryGetValue(HouseholdUser.KeyOf(accountId, userId), out var role) ? role : null;

    /// <inheritdoc/>
    public bool IsValid(string userName, string password) =>
        _opsHashes.TryGetValue(HouseholdUser.KeyOf(string.Empty, userName), out var hash) && DeviceKeys.Matches(password, hash);

    /// <summary>Replaces everything with stored state.</summary>
    public void Load(IEnumerable<Household> households, IEnumerable<HouseholdUser> users)
    {
        ArgumentNullException.ThrowIfNull(households);
        ArgumentNullException.ThrowIfNull(users);
        _households.Clear();
        _users.Clear();
        _opsHashes.Clear();
        foreach (var household in households)
        {
            _households[household.AccountId] = true;
        }

        foreach (var user in users)
        {
            Put(user);
        }
    }

    /// <summary>Applies committed changes, in order; a removed ops user's connections are closed.</summary>
    public void Apply(IReadOnlyList<LedgerChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var change in changes)
        {
            switch (change)
            {
                case HouseholdChanged { Removed: true, Household: var household }:
                    _households.TryRemove(household.AccountId, out _);
                    break;
                case HouseholdChanged { Household: var household }:
                    _households[household.AccountId] = true;
                    break;
                case UserChanged { Removed: true, User: var user }:
                    _users.TryRemove(user.Key, out _);
                    if (_opsHashes.TryRemove(user.Key, out _))
                    {
                        devices.OpsUserRemoved(user.UserId);
                    }

                    break;
                case UserChanged { User: var user }:
                    Put(user);
                    break;
            }
        }
    }

    private void Put(HouseholdUser user)
    {
        _users[user.Key] = user.Role;
        if (user.Role == UserRole.Ops)
        {
            _opsHashes[user.Key] = user.CredentialHash;
        }
    }
}
