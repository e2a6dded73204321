using Pantri.Iot.Contract;
using Pantri.Iot.Gateway;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>One gateway per data directory. Two gateways on one LiteDB file each decide from their own memory and
/// overwrite each other's commits: an acknowledged order was lost that way.</summary>
[Category("Integration")]
public sealed class DataDirectoryLockTests
{
    [Test]
    public async Task A_second_gateway_process_on_the_same_data_directory_refuses_to_start_naming_the_directory_and_the_pid_holding_it()
    {
        await using var first = await TestGateway.StartAsync();

        var refused = Assert.ThrowsAsync<InvalidOperationException>(async () => (await GatewayProcess.StartAsync(first.DataDirectory)).Dispose());

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(first.DataDirectory)));
        Assert.That(refused.Message, Does.Contain($"pid {Environment.ProcessId}"));
        Assert.That(refused.Message, Does.Contain("The gateway exited with 2"), "a clear refusal, not a crash");
        await using var button = await first.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), "the first gateway is untouched");
        Assert.That(first.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_second_gateway_in_the_same_process_refuses_too_and_the_directory_is_free_again_once_the_first_stops()
    {
        var first = await TestGateway.StartAsync();
        try
        {
            var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: first.DataDirectory));
            Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(first.DataDirectory)));
        }
        finally
        {
            await first.StopAsync();
        }

        await using var second = await TestGateway.StartAsync(dataDirectory: first.DataDirectory);
        await using var button = await second.ConnectButtonAsync();
        Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).Id, Is.EqualTo(AckIds.OrderPlaced));
    }
}
