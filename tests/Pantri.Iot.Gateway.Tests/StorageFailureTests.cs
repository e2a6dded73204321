using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

[Category("Integration")]
public sealed class StorageFailureTests
{
    [Test]
    public async Task When_the_commit_fails_the_device_gets_503_nothing_is_recorded_and_a_retry_succeeds()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        using var real = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db"));
        var store = new FailingStore(real);
        await using var gateway = await TestGateway.StartAsync(
            configure: b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(store)),
            dataDirectory: dir);
        gateway.ExpectLoggedErrors(FailingStore.Failure);
        await using var button = await gateway.ConnectButtonAsync();

        store.FailCommits = true;
        var refused = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref":123456789,"RequestId":"p1"}""");
        store.FailCommits = false;
        await WaitUntilReadyAsync(gateway); // storage is retried with a back-off; a retry before that gets 503 again
        var retried = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref":123456789,"RequestId":"p1"}""");

        Assert.That(refused.Id, Is.EqualTo(AckIds.Unavailable));
        Assert.That(refused.Status, Does.Contain("nothing was recorded"));
        Assert.That(real.FindCommandByRef(refused.CommandRef), Is.Null);
        Assert.That(retried.Id, Is.EqualTo(AckIds.OrderPlaced), "the failed attempt left no phantom open order behind");
        Assert.That(retried.CommandRef, Is.Not.EqualTo(refused.CommandRef));
        Assert.That(real.FindOrders("demo", 10), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_demo_household_whose_commit_failed_is_created_again_with_working_keys_on_the_next_start()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        using (var real = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db")))
        {
            var store = new FailingStore(real) { FailCommitsWhen = batch => batch.Devices.Count > 0 };
            // Stopped, not disposed: disposing would delete the data directory the next start needs.
            var failed = await TestGateway.StartAsync(configure: b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(store)), dataDirectory: dir);
            failed.ExpectLoggedErrors(FailingStore.Failure);
            Assert.That(real.Load().Devices, Is.Empty, "the failed commit stored no device");
            await failed.StopAsync();
        }

        var staleKey = DemoCredentials.Read(dir).ButtonKey;
        await using var gateway = await TestGateway.StartAsync(dataDirectory: dir);
        await using var button = await gateway.ConnectButtonAsync();

        Assert.That(gateway.Demo.ButtonKey, Is.Not.EqualTo(staleKey), "the file was written anew with the keys that were stored");
        Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    private static async Task WaitUntilReadyAsync(TestGateway gateway)
    {
        using var http = gateway.Http();
        for (var i = 0; i < 100 && !(await http.GetAsync("/readyz")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(50);
        }
    }
}
