namespace Pantri.Iot.Broker.Tests;

public sealed class SessionOwnersTests
{
    private static readonly ClientIdentity Ops = new("ops-user", IsOps: true);
    private static readonly ClientIdentity Button = new("demo-button", IsOps: false);

    [Test]
    public void A_session_is_claimed_only_by_the_identity_that_created_it()
    {
        var owners = new SessionOwners();
        owners.Connected("shared-id", Button);

        Assert.That(owners.IsOwnedByAnother("shared-id", Ops), Is.True);
        Assert.That(owners.IsOwnedByAnother("shared-id", new ClientIdentity("demo-button", IsOps: false)), Is.False);
        Assert.That(owners.IsOwnedByAnother("other-id", Ops), Is.False);
    }

    [Test]
    public void A_deleted_session_frees_its_client_id_but_not_a_newer_owners()
    {
        var owners = new SessionOwners();
        owners.Connected("shared-id", Button);
        owners.Deleted("shared-id", Button);
        Assert.That(owners.IsOwnedByAnother("shared-id", Ops), Is.False);

        owners.Connected("shared-id", Ops);
        owners.Deleted("shared-id", Button); // a late delete of the older session
        Assert.That(owners.IsOwnedByAnother("shared-id", Button), Is.True);
    }
}
