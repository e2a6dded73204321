using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;
using Pantri.Iot.LoadTest;
using Pantri.Iot.LoadTest.Load;
using Pantri.Iot.LoadTest.Targets;

namespace Pantri.Iot.Tests;

/// <summary>The benchmark harness in miniature: real MQTT devices against an in-process gateway. It checks that the
/// harness and the pipeline agree on the contract (every request acked, every ack stored), never how fast.</summary>
[TestFixture]
[Category("Integration")]
[CancelAfter(60_000)]
public sealed class LoadTestSmokeTests
{
    private const int Devices = 20;
    private const int PressesPerDevice = 3;
    private const int LevelReportsPerDevice = 3;

    private string _dataDirectory = null!;

    [SetUp]
    public void CreateDataDirectory() =>
        _dataDirectory = Path.Combine(Path.GetTempPath(), "pantri-smoke-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteDataDirectory()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Test]
    public async Task Every_press_and_level_report_from_simulated_devices_is_acked_and_stored(CancellationToken cancellationToken)
    {
        await using var gateway = await InProcessGateway.StartAsync(_dataDirectory, 0, cancellationToken);
        var credentials = await gateway.ProvisionAsync(Devices, "smoke", cancellationToken);
        var tracker = new AckTracker();
        await using var fleet = await DeviceFleet.ConnectAsync(credentials, "127.0.0.1", gateway.Port, tracker, Devices, cancellationToken);

        var sends = fleet.Devices.SelectMany((device, d) => Enumerable.Range(0, PressesPerDevice + LevelReportsPerDevice).Select(i =>
            device.SendAsync(i < PressesPerDevice ? RequestKind.Trigger : RequestKind.Level, string.Create(CultureInfo.InvariantCulture, $"smoke-{d}-{i}"), Stopwatch.GetTimestamp(), cancellationToken)));
        var published = await Task.WhenAll(sends);
        await tracker.DrainAsync(TimeSpan.FromSeconds(20), cancellationToken);

        const int expected = Devices * (PressesPerDevice + LevelReportsPerDevice);
        Assert.Multiple(() =>
        {
            Assert.That(published, Has.All.True, "every PUBLISH got a successful PUBACK");
            Assert.That(tracker.Sent, Is.EqualTo(expected));
            Assert.That(tracker.Acked, Is.EqualTo(expected), "every request got its ack");
            Assert.That(tracker.Unmatched, Is.Zero, "no ack without a request");
            Assert.That(tracker.CommandRefs.Distinct().Count(), Is.EqualTo(expected), "one command per request");
            Assert.That(tracker.CommandRefs.Where(r => gateway.Store.FindCommand(r) is null), Is.Empty, "every acked command is stored");
            Assert.That(tracker.Ids.Keys, Is.SubsetOf(new[] { 200, 201, 409 }), "presses order or hit the open order; reports are recorded");
        });
        var (orders, duplicates) = gateway.CountOrders();
        Assert.That((orders, duplicates), Is.EqualTo((Devices, 0)), "one order per instruction, from its first press");
    }
}
