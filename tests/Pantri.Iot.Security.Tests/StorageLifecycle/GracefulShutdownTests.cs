using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>SIGTERM (systemd, Docker and Kubernetes stop a service so) stops the gateway gracefully: no new command is
/// taken, the writer commits what it has, the acks of committed commands reach the devices still connected, then the
/// process exits 0. Before, the broker stopped first (the last hosted service registered is the first stopped) and
/// dropped every connection while commands were still being committed: committed, never acknowledged.</summary>
[Category("Integration")]
public sealed class GracefulShutdownTests
{
    [Test]
    public async Task On_SIGTERM_every_committed_command_gets_its_ack_to_the_device_and_every_PUBACK_has_its_ack()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-sigterm-" + Guid.NewGuid().ToString("N"));
        List<PressingDevice> devices;
        int exitCode;
        using (var gateway = await GatewayProcess.StartAsync(dir, "--Pantri:CommandsPerSecond=1000000", "--Pantri:CommandBurst=1000000"))
        {
            devices = await PressingDevice.CreateAsync(gateway.HttpBase, DemoCredentials.Read(dir).UserAuth, 8);
            using var stop = new CancellationTokenSource();
            var pressing = devices.Select(d => d.PressAsync(gateway.MqttPort, stop.Token)).ToList();
            await WaitForAcksAsync(devices, perDevice: 20);

            gateway.Terminate();
            var exited = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20));
            stop.Cancel();
            await Task.WhenAll(pressing).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.That(exited, Is.True, "the gateway exits on SIGTERM");
            exitCode = gateway.ExitCode;
        }

        var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db"));
        try
        {
            Assert.That(exitCode, Is.Zero);
            Assert.Multiple(() =>
            {
                foreach (var device in devices)
                {
                    var acked = device.Acks.Select(a => a.RequestId).ToHashSet();
                    Assert.That(device.PubAcked, Is.SubsetOf(acked), $"{device.DeviceId}: a PUBACKed press without its ack");
                    foreach (var ack in device.Acks)
                    {
                        Assert.That(store.FindCommandByRef(ack.CommandRef)?.IdempotencyKey, Is.EqualTo(device.DeviceId + "\n" + ack.RequestId), $"ack {ack.CommandRef} is stored");
                    }

                    var committed = device.Sent.Where(requestId => store.FindCommandByKey(device.DeviceId + "\n" + requestId) is not null).ToList();
                    Assert.That(committed, Is.SubsetOf(acked), $"{device.DeviceId}: committed commands whose ack never reached the device");
                }
            });
        }
        finally
        {
            store.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task WaitForAcksAsync(List<PressingDevice> devices, int perDevice)
    {
        for (var i = 0; i < 200 && devices.Any(d => d.Acks.Count < perDevice); i++)
        {
            await Task.Delay(25);
        }

        Assert.That(devices.Select(d => d.Acks.Count), Is.All.GreaterThanOrEqualTo(perDevice), "the devices were pressing when SIGTERM came");
    }
}
