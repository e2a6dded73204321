using System.Text;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>A RequestId is compared byte for byte, as it was sent: stored and looked up in the same form, in memory and
/// from storage after a restart. LiteDB's mapper trims strings by default, which made a key stored in one form and looked
/// up in another — a retry that placed a second order, or a new request answered with another one's ack.</summary>
[Category("Integration")]
public sealed class ExactIdempotencyKeyTests
{
    private static string Press(string requestId) => Encoding.UTF8.GetString(RequestPayloads.Trigger(DemoCredentials.ButtonRef, requestId));

    [Test]
    public async Task A_RequestId_with_surrounding_spaces_sent_twice_replays_the_first_ack()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var button = await gateway.ConnectButtonAsync();

        var first = await button.RequestAsync(DeviceTopicKind.Trigger, Press("  r1 "));
        var again = await button.RequestAsync(DeviceTopicKind.Trigger, Press("  r1 "));

        Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(again.CommandRef, Is.EqualTo(first.CommandRef), "the retry is the same command");
        Assert.That(again.Replayed, Is.True);
        Assert.That(again.RequestId, Is.EqualTo("  r1 "), "the RequestId is echoed as it was sent");
        Assert.That(gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task RequestIds_that_differ_only_in_spaces_are_different_commands()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var button = await gateway.ConnectButtonAsync();

        var plain = await button.RequestAsync(DeviceTopicKind.Trigger, Press("r1"));
        var leading = await button.RequestAsync(DeviceTopicKind.Trigger, Press(" r1"));
        var trailing = await button.RequestAsync(DeviceTopicKind.Trigger, Press("r1 "));

        Assert.That(new[] { plain.CommandRef, leading.CommandRef, trailing.CommandRef }, Is.Unique);
        Assert.That(leading.Replayed, Is.Null);
        Assert.That(trailing.Replayed, Is.Null);
        Assert.That(leading.Id, Is.EqualTo(AckIds.Conflict), "a new command, refused by the open order");
    }

    [Test]
    public async Task Keys_loaded_from_storage_after_a_restart_are_compared_exactly()
    {
        await using var gateway = await TestGateway.StartAsync();
        Acknowledgement spaced;
        Acknowledgement bare;
        await using (var button = await gateway.ConnectButtonAsync())
        {
            spaced = await button.RequestAsync(DeviceTopicKind.Trigger, Press("r2 "));
            bare = await button.RequestAsync(DeviceTopicKind.Trigger, Press(" r3"));
        }

        await gateway.RestartAsync();
        await using var again = await gateway.ConnectButtonAsync();
        var spacedRetry = await again.RequestAsync(DeviceTopicKind.Trigger, Press("r2 "));
        var trimmedSpaced = await again.RequestAsync(DeviceTopicKind.Trigger, Press("r2"));
        var bareRetry = await again.RequestAsync(DeviceTopicKind.Trigger, Press(" r3"));
        var trimmedBare = await again.RequestAsync(DeviceTopicKind.Trigger, Press("r3"));

        Assert.That(spacedRetry.CommandRef, Is.EqualTo(spaced.CommandRef), "\"r2 \" replays after a restart");
        Assert.That(bareRetry.CommandRef, Is.EqualTo(bare.CommandRef), "\" r3\" replays after a restart");
        Assert.That(trimmedSpaced.CommandRef, Is.Not.EqualTo(spaced.CommandRef), "\"r2\" is not \"r2 \"");
        Assert.That(trimmedSpaced.Replayed, Is.Null);
        Assert.That(trimmedBare.CommandRef, Is.Not.EqualTo(bare.CommandRef), "\"r3\" is not \" r3\"");
        Assert.That(gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }
}
