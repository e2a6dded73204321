using System.Security.Cryptography;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>Creates a household, and its first user as owner when <paramref name="OwnerUserId"/> is given.</summary>
/// <param name="AccountId">Its id.</param>
/// <param name="Name">Its display name.</param>
/// <param name="OwnerUserId">Its first user, or null.</param>
public sealed record CreateHousehold(string AccountId, string Name, string? OwnerUserId) : SetupCommand<HouseholdView>
{
    /// <inheritdoc/>
    public override SetupResult<HouseholdView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        // Checked first: once the household is created, adding its first owner cannot be refused.
        if (OwnerUserId is not null && !Identifiers.IsUserId(OwnerUserId))
        {
            return new SetupResult<HouseholdView>(StatusCodes.Status400BadRequest, "Owner " + Identifiers.UserRule, null, "Owner");
        }

        var created = work.Ledger.CreateHousehold(AccountId, Name, work.Now);
        if (created.IsSuccess && OwnerUserId is not null)
        {
            work.Ledger.AddUser(AccountId, OwnerUserId, UserRole.Owner, work.Now);
        }

        return SetupResult.From(created, h => IdentityViews.Household(work.Ledger, h));
    }
}

/// <summary>All households (the command line; an installation-wide list no household's token may read).</summary>
public sealed record ListHouseholds : SetupCommand<IReadOnlyList<HouseholdView>>
{
    /// <inheritdoc/>
    public override SetupResult<IReadOnlyList<HouseholdView>> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.Ok<IReadOnlyList<HouseholdView>>(work.Ledger.Households.Values.OrderBy(h => h.AccountId, StringComparer.Ordinal).Select(h => IdentityViews.Household(work.Ledger, h)).ToList());
    }
}

/// <summary>One household.</summary>
/// <param name="AccountId">The household.</param>
public sealed record GetHousehold(string AccountId) : SetupCommand<HouseholdView>
{
    /// <inheritdoc/>
    public override SetupResult<HouseholdView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.HouseholdOf(AccountId) is { } household
            ? SetupResult.Ok(IdentityViews.Household(work.Ledger, household))
            : SetupResult.Fail<HouseholdView>(StatusCodes.Status404NotFound, "unknown household");
    }
}

/// <summary>Renames a household.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="Name">The new name.</param>
public sealed record RenameHousehold(string AccountId, string Name) : SetupCommand<HouseholdView>
{
    /// <inheritdoc/>
    public override SetupResult<HouseholdView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.RenameHousehold(AccountId, Name), h => IdentityViews.Household(work.Ledger, h));
    }
}

/// <summary>Deletes a household: devices revoked, instructions and users removed, orders kept.</summary>
/// <param name="AccountId">The household.</param>
public sealed record DeleteHousehold(string AccountId) : SetupCommand<HouseholdView>
{
    /// <inheritdoc/>
    public override SetupResult<HouseholdView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.DeleteHousehold(AccountId, work.Now), h => new HouseholdView(h.AccountId, h.Name, h.CreatedAt, [], 0, 0));
    }
}

/// <summary>Adds a user to a household.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="UserId">The user.</param>
/// <param name="Role">Owner or member.</param>
public sealed record AddUser(string AccountId, string UserId, UserRole Role) : SetupCommand<UserView>
{
    /// <inheritdoc/>
    public override SetupResult<UserView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.AddUser(AccountId, UserId, Role, work.Now), IdentityViews.User);
    }
}

/// <summary>Makes sure a user exists before a token is issued for them: added when missing, as owner when the household
/// has no owner yet, else with <paramref name="Role"/> (member by default). An existing user keeps their role.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="UserId">The user.</param>
/// <param name="Role">The role for a new user, or null for the default.</param>
public sealed record EnsureUser(string AccountId, string UserId, UserRole? Role) : SetupCommand<UserView>
{
    /// <inheritdoc/>
    public override SetupResult<UserView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var ledger = work.Ledger;
        if (ledger.Users.GetValueOrDefault(HouseholdUser.KeyOf(AccountId, UserId)) is { } existing)
        {
            return SetupResult.Ok(IdentityViews.User(existing));
        }

        var role = Role ?? (ledger.UsersOf(AccountId).Any(u => u.Role == UserRole.Owner) ? UserRole.Member : UserRole.Owner);
        return SetupResult.From(ledger.AddUser(AccountId, UserId, role, work.Now), IdentityViews.User);
    }
}

/// <summary>Removes a user from a household; their tokens stop working.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="UserId">The user.</param>
public sealed record RemoveUser(string AccountId, string UserId) : SetupCommand<UserView>
{
    /// <inheritdoc/>
    public override SetupResult<UserView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.RemoveUser(AccountId, UserId), IdentityViews.User);
    }
}

/// <summary>Adds an ops user with a new random password, shown this once.</summary>
/// <param name="UserName">The MQTT username.</param>
public sealed record AddOpsUser(string UserName) : SetupCommand<CreatedOpsUser>
{
    /// <inheritdoc/>
    public override SetupResult<CreatedOpsUser> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var password = DeviceKeys.NewKey();
        return SetupResult.From(work.Ledger.AddOpsUser(UserName, DeviceKeys.Hash(password), work.Now), u => new CreatedOpsUser(u.UserId, password));
    }
}

/// <summary>Removes an ops user; its MQTT connections are closed.</summary>
/// <param name="UserName">The MQTT username.</param>
public sealed record RemoveOpsUser(string UserName) : SetupCommand<UserView>
{
    /// <inheritdoc/>
    public override SetupResult<UserView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.RemoveOpsUser(UserName), IdentityViews.User);
    }
}

/// <summary>The ops users.</summary>
public sealed record ListOpsUsers : SetupCommand<IReadOnlyList<UserView>>
{
    /// <inheritdoc/>
    public override SetupResult<IReadOnlyList<UserView>> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.Ok<IReadOnlyList<UserView>>(work.Ledger.UsersOf(string.Empty).OrderBy(u => u.UserId, StringComparer.Ordinal).Select(IdentityViews.User).ToList());
    }
}

/// <summary>Creates a device with a gateway-assigned id and a name; its key is returned this once.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="Name">Its name.</param>
public sealed record CreateDevice(string AccountId, string Name) : SetupCommand<DeviceWithKey>
{
    /// <inheritdoc/>
    public override SetupResult<DeviceWithKey> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.Ledger.HouseholdOf(AccountId) is null)
        {
            return SetupResult.Fail<DeviceWithKey>(StatusCodes.Status404NotFound, "unknown household");
        }

        var key = DeviceKeys.NewKey();
        var created = work.Ledger.CreateDevice(AccountId, NewDeviceIds.Next(id => work.Ledger.Devices.ContainsKey(id)), Name, DeviceKeys.Hash(key), work.Now);
        return SetupResult.From(created, device => new DeviceWithKey(device.DeviceId, device.Name, key));
    }
}

/// <summary>The household's devices.</summary>
/// <param name="AccountId">The household.</param>
public sealed record ListDevices(string AccountId) : SetupCommand<IReadOnlyList<DeviceView>>
{
    /// <inheritdoc/>
    public override SetupResult<IReadOnlyList<DeviceView>> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.Ok<IReadOnlyList<DeviceView>>(work.Ledger.DevicesOf(AccountId).OrderBy(d => d.CreatedAt).ThenBy(d => d.DeviceId, StringComparer.Ordinal).Select(d => IdentityViews.Device(work.Ledger, d)).ToList());
    }
}

/// <summary>One device of the household; another household's answers 404 like an unknown one.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="DeviceId">The device.</param>
public sealed record GetDevice(string AccountId, string DeviceId) : SetupCommand<DeviceView>
{
    /// <inheritdoc/>
    public override SetupResult<DeviceView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.DeviceOf(AccountId, DeviceId) is { } device
            ? SetupResult.Ok(IdentityViews.Device(work.Ledger, device))
            : SetupResult.Fail<DeviceView>(StatusCodes.Status404NotFound, "unknown device");
    }
}

/// <summary>Renames a device.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="DeviceId">The device.</param>
/// <param name="Name">The new name.</param>
public sealed record RenameDevice(string AccountId, string DeviceId, string Name) : SetupCommand<DeviceView>
{
    /// <inheritdoc/>
    public override SetupResult<DeviceView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.RenameDevice(AccountId, DeviceId, Name), d => IdentityViews.Device(work.Ledger, d));
    }
}

/// <summary>Gives a device a new key (shown this once); the old key stops working and its live session is closed.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="DeviceId">The device.</param>
public sealed record RotateDeviceKey(string AccountId, string DeviceId) : SetupCommand<DeviceWithKey>
{
    /// <inheritdoc/>
    public override SetupResult<DeviceWithKey> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var key = DeviceKeys.NewKey();
        return SetupResult.From(work.Ledger.RotateDeviceKey(AccountId, DeviceId, DeviceKeys.Hash(key), work.Now), d => new DeviceWithKey(d.DeviceId, d.Name, key));
    }
}

/// <summary>Revokes (deletes) a device; its orders stay.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="DeviceId">The device.</param>
public sealed record RevokeDevice(string AccountId, string DeviceId) : SetupCommand<DeviceView>
{
    /// <inheritdoc/>
    public override SetupResult<DeviceView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.RevokeDevice(AccountId, DeviceId, work.Now), d => new DeviceView(d.DeviceId, d.Name, d.CreatedAt, d.KeyRotatedAt, []));
    }
}

/// <summary>Gateway-assigned DeviceIds: <c>d-</c> and 20 random base-32 characters (100 bits), inside the contract's
/// pattern and outside the reserved <c>ops-</c>/<c>prov-</c> namespaces, so no household can guess or probe another's.</summary>
internal static class NewDeviceIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Next(Func<string, bool> taken)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var id = "d-" + RandomNumberGenerator.GetString(Alphabet, 20);
            if (!taken(id))
            {
                return id;
            }
        }

        throw new InvalidOperationException("No free DeviceId after 8 random draws.");
    }
}
