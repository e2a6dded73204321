using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Tests.Storage;

[Category("Integration")]
public sealed class LiteDbGatewayStoreTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "pantri-store-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void The_log_is_moved_into_the_data_file_only_when_large_and_nothing_is_lost()
    {
        var key = RefAllocator.NewKey();
        var refs = new RefAllocator(key, 0);
        var logPath = Path.Combine(_dir, "pantri-log.db");
        var written = new List<long>();
        using (var store = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db")))
        {
            store.Commit(new WriteBatch { Meta = new GatewayMeta { RefKey = Convert.ToBase64String(key), ReservedUpTo = RefAllocator.BlockSize } });
            refs.Reserved(RefAllocator.BlockSize);
            while (new FileInfo(logPath).Length < LiteDbGatewayStore.IdleCheckpointBytes)
            {
                var batch = new WriteBatch();
                for (var i = 0; i < 500; i++)
                {
                    var commandRef = refs.Next(out var sequence);
                    written.Add(commandRef);
                    batch.Commands.Add(new CommandRecord { Sequence = sequence, CommandRef = commandRef, IdempotencyKey = "dev\n" + commandRef, Kind = "level", At = DateTimeOffset.UnixEpoch, Ack = new byte[400] });
                }

                store.Commit(batch);
                store.CompactLog(idle: false);
            }

            var before = new FileInfo(logPath).Length;
            store.CompactLog(idle: true);
            var after = new FileInfo(logPath).Length;

            Assert.That(before, Is.GreaterThanOrEqualTo(LiteDbGatewayStore.IdleCheckpointBytes), "under load the log is left alone below the forced size");
            Assert.That(after, Is.LessThan(before));
        }

        using var reopened = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"));
        Assert.That(written.All(r => reopened.FindCommandByRef(r)?.CommandRef == r), Is.True);
        Assert.That(reopened.FindCommandByKey("dev\n" + written[^1])!.CommandRef, Is.EqualTo(written[^1]));
    }

    [Test]
    public void Strings_are_stored_and_looked_up_exactly_as_given()
    {
        var at = DateTimeOffset.UnixEpoch;
        using (var store = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db")))
        {
            var batch = new WriteBatch();
            foreach (var id in new[] { "dev-a", "dev-a ", " dev-a" })
            {
                batch.Devices[id] = new Pantri.Iot.Domain.Device { DeviceId = id, AccountId = "acc " + id.Length, KeyHash = "h", CreatedAt = at };
            }

            batch.Commands.Add(new CommandRecord { Sequence = 1, CommandRef = 11, IdempotencyKey = "dev-a\n r1 ", Kind = "trigger", At = at, Ack = [1] });
            batch.Commands.Add(new CommandRecord { Sequence = 2, CommandRef = 12, IdempotencyKey = "dev-a\n r1", Kind = "trigger", At = at, Ack = [2] });
            batch.Commands.Add(new CommandRecord { Sequence = 3, CommandRef = 13, IdempotencyKey = "dev-a\n", DeviceId = "", Kind = "trigger", At = at, Ack = [3] });
            store.Commit(batch);
        }

        using var reopened = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"));
        Assert.That(reopened.Load().Devices.Select(d => d.DeviceId), Is.EquivalentTo(new[] { "dev-a", "dev-a ", " dev-a" }));
        Assert.That(reopened.FindCommandByKey("dev-a\n r1 ")?.CommandRef, Is.EqualTo(11));
        Assert.That(reopened.FindCommandByKey("dev-a\n r1")?.CommandRef, Is.EqualTo(12));
        Assert.That(reopened.FindCommandByKey("dev-a\n r1  "), Is.Null);
        Assert.That(reopened.FindCommandBySequence(3)!.DeviceId, Is.Empty, "an empty string stays empty, not null");
        Assert.That(reopened.RecentCommandKeys(at, 10).Select(k => k.Key), Is.EquivalentTo(new[] { "dev-a\n r1 ", "dev-a\n r1", "dev-a\n" }));
    }
}
