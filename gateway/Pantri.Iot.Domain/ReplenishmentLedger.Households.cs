using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Households, their users, and the installation's operators.</summary>
public sealed partial class ReplenishmentLedger
{
    /// <summary>Longest household or device name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Most users one household may have.</summary>
    public const int MaxUsersPerHousehold = 64;

    /// <summary>The household <paramref name="accountId"/>, if it exists.</summary>
    public Household? HouseholdOf(string accountId) => _households.GetValueOrDefault(accountId);

    /// <summary>The users of a household (or, for the empty id, the operators).</summary>
    public IEnumerable<HouseholdUser> UsersOf(string accountId) => _users.Values.Where(u => u.AccountId == accountId);

    /// <summary>Creates a household with its id and display name.</summary>
    public LedgerOutcome<Household> CreateHousehold(string accountId, string name, DateTimeOffset now)
    {
        if (!Identifiers.IsHouseholdId(accountId))
        {
            return LedgerOutcome.Invalid<Household>(new FieldError("AccountId", Identifiers.HouseholdRule));
        }

        if (SpecRules.Text(name, "Name", MaxNameLength) is { } invalid)
        {
            return LedgerOutcome.Invalid<Household>(invalid);
        }

        if (_households.ContainsKey(accountId))
        {
            return LedgerOutcome.Refused<Household>(AckIds.Conflict, "a household with this id exists; choose another id");
        }

        var household = new Household { AccountId = accountId, Name = name, CreatedAt = now };
        _journal.Added(household);
        _households[accountId] = household;
        Changed(household);
        return LedgerOutcome.Done(household, 201);
    }

    /// <summary>Renames a household.</summary>
    public LedgerOutcome<Household> RenameHousehold(string accountId, string name)
    {
        if (SpecRules.Text(name, "Name", MaxNameLength) is { } invalid)
        {
            return LedgerOutcome.Invalid<Household>(invalid);
        }

        if (HouseholdOf(accountId) is not { } household)
        {
            return LedgerOutcome.Refused<Household>(AckIds.UnknownInstruction, "unknown household");
        }

        _journal.Touch(household);
        household.Name = name;
        Changed(household);
        return LedgerOutcome.Done(household);
    }

    /// <summary>Deletes a household: its devices are revoked, its instructions and users removed; its orders stay
    /// (order history is never deleted), and an order still open carries on to its end.</summary>
    public LedgerOutcome<Household> DeleteHousehold(string accountId, DateTimeOffset now)
    {
        if (HouseholdOf(accountId) is not { } household)
        {
            return LedgerOutcome.Refused<Household>(AckIds.UnknownInstruction, "unknown household");
        }

        foreach (var device in _devices.Values.Where(d => d.AccountId == accountId && !d.IsRevoked).ToList())
        {
            RevokeDevice(accountId, device.DeviceId, now);
        }

        foreach (var instruction in InstructionsOf(accountId).ToList())
        {
            DeleteInstruction(accountId, instruction.Ref);
        }

        foreach (var user in UsersOf(accountId).ToList())
        {
            Remove(user);
        }

        foreach (var code in _pairingCodes.Values.Where(c => c.AccountId == accountId).ToList())
        {
            Remove(code);
        }

        _journal.Touch(household);
        _households.Remove(accountId);
        Changed(household, removed: true);
        return LedgerOutcome.Done(household);
    }

    /// <summary>Adds a user with a role (owner or member) to a household.</summary>
    public LedgerOutcome<HouseholdUser> AddUser(string accountId, string userId, UserRole role, DateTimeOffset now)
    {
        if (!Identifiers.IsUserId(userId))
        {
            return LedgerOutcome.Invalid<HouseholdUser>(new FieldError("UserId", Identifiers.UserRule));
        }

        if (role is not (UserRole.Owner or UserRole.Member))
        {
            return LedgerOutcome.Invalid<HouseholdUser>(new FieldError("Role", "must be Owner or Member"));
        }

        if (HouseholdOf(accountId) is null)
        {
            return LedgerOutcome.Refused<HouseholdUser>(AckIds.UnknownInstruction, "unknown household");
        }

        if (UsersOf(accountId).Count() >= MaxUsersPerHousehold)
        {
            return LedgerOutcome.Refused<HouseholdUser>(AckIds.Conflict, $"a household has at most {MaxUsersPerHousehold} users");
        }

        return Add(new HouseholdUser { AccountId = accountId, UserId = userId, Role = role, CreatedAt = now });
    }

    /// <summary>Removes a user from a household; their tokens stop working at once.</summary>
    public LedgerOutcome<HouseholdUser> RemoveUser(string accountId, string userId)
    {
        if (string.IsNullOrEmpty(accountId) || !_users.TryGetValue(HouseholdUser.KeyOf(accountId, userId), out var user))
        {
            return LedgerOutcome.Refused<HouseholdUser>(AckIds.UnknownInstruction, "unknown user");
        }

        Remove(user);
        return LedgerOutcome.Done(user);
    }

    /// <summary>Adds an operator: an MQTT username of its own (any client id starting <c>ops-</c>) with the hash of its
    /// password; it may subscribe to the ops topics and publish nothing.</summary>
    public LedgerOutcome<HouseholdUser> AddOpsUser(string userName, string credentialHash, DateTimeOffset now)
    {
        if (!Identifiers.IsUserId(userName))
        {
            return LedgerOutcome.Invalid<HouseholdUser>(new FieldError("UserName", Identifiers.UserRule));
        }

        return Add(new HouseholdUser { AccountId = string.Empty, UserId = userName, Role = UserRole.Ops, CredentialHash = credentialHash, CreatedAt = now });
    }

    /// <summary>Removes an operator; its MQTT connections are closed by the gateway once this commits.</summary>
    public LedgerOutcome<HouseholdUser> RemoveOpsUser(string userName)
    {
        if (!_users.TryGetValue(HouseholdUser.KeyOf(string.Empty, userName ?? string.Empty), out var user))
        {
            return LedgerOutcome.Refused<HouseholdUser>(AckIds.UnknownInstruction, "unknown ops user");
        }

        Remove(user);
        return LedgerOutcome.Done(user);
    }

    private LedgerOutcome<HouseholdUser> Add(HouseholdUser user)
    {
        user.Key = HouseholdUser.KeyOf(user.AccountId, user.UserId);
        if (_users.ContainsKey(user.Key))
        {
            return LedgerOutcome.Refused<HouseholdUser>(AckIds.Conflict, "this user exists");
        }

        _journal.Added(user);
        _users[user.Key] = user;
        Changed(user);
        return LedgerOutcome.Done(user, 201);
    }

    private void Remove(HouseholdUser user)
    {
        _journal.Touch(user);
        _users.Remove(user.Key);
        Changed(user, removed: true);
    }
}
