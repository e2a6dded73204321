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
    public void LiteDbs_log_is_moved_into_the_data_file_once_it_is_large_and_nothing_is_lost()
    {
        var key = RefAllocator.NewKey();
        var refs = new RefAllocator(key, 0);
        var path = Path.Combine(_dir, "pantri.db");
        var written = new List<long>();
        using (var store = new LiteDbGatewayStore(path))
        {
            store.Commit(new WriteBatch { Meta = new GatewayMeta { RefKey = Convert.ToBase64String(key), ReservedUpTo = RefAllocator.BlockSize } });
            refs.Reserved(RefAllocator.BlockSize);
            // Well past the idle checkpoint size in LiteDB's log.
            for (var round = 0; round < 40; round++)
            {
                var batch = new WriteBatch();
                for (var i = 0; i < 500; i++)
                {
                    var commandRef = refs.Next(out var sequence);
                    written.Add(commandRef);
                    batch.Commands.Add(new CommandRecord { Sequence = sequence, CommandRef = commandRef, IdempotencyKey = "dev\n" + commandRef, Kind = "level", At = DateTimeOffset.UnixEpoch, Ack = new byte[400] });
                }

                store.Commit(batch);
            }

            Assert.That(store.FindCommandByRef(written[^1]), Is.Not.Null, "a read sees every batch committed before it");
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (new FileInfo(LiteDbGatewayStore.LogPathOf(path)).Length >= LiteDbGatewayStore.IdleCheckpointBytes && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }

            Assert.That(new FileInfo(LiteDbGatewayStore.LogPathOf(path)).Length, Is.LessThan(LiteDbGatewayStore.IdleCheckpointBytes), "the log was moved into the data file when nothing else was waiting");
            Assert.That(new FileInfo(path).Length, Is.GreaterThan(written.Count * 400L), "the data file holds the commands");
        }

        using var reopened = new LiteDbGatewayStore(path);
        Assert.That(written.All(r => reopened.FindCommandByRef(r)?.CommandRef == r), Is.True);
        Assert.That(reopened.FindCommandByKey("dev\n" + written[^1])!.CommandRef, Is.EqualTo(written[^1]));
    }

    [Test]
    public async Task A_commit_is_not_visible_to_readers_before_it_is_on_disk()
    {
        // The retail dispatcher reads the outbox on its own thread: an order it could see before its commit reached the
        // disk might be sent to the retailer and then lost in a power cut (and placed and sent again on the resend).
        var disk = new HeldFlushDisk();
        using var store = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"), disk.Open);
        var batch = new WriteBatch();
        batch.Outbox[42] = new OutboxEntry { OrderRef = 42, Retailer = "shop", QueuedAt = DateTimeOffset.UnixEpoch };
        disk.Hold = true;
        var commit = Task.Run(() => store.Commit(batch));
        await disk.Flushing.WaitAsync(TimeSpan.FromSeconds(10));

        var read = Task.Run(() => store.PendingSubmissions(10));
        var seenDuringFlush = await Task.WhenAny(read, Task.Delay(300)) == read && (await read).Count > 0;
        disk.Release();
        await commit.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(seenDuringFlush, Is.False, "the outbox entry was readable while its commit was still being flushed");
        await read.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(store.PendingSubmissions(10).Select(e => e.OrderRef), Is.EqualTo(new[] { 42L }), "and a read after the commit returned sees it");
    }

    // Real files whose flush to disk can be held open, to look at the store in the middle of one.
    private sealed class HeldFlushDisk
    {
        private readonly SemaphoreSlim _flushing = new(0);
        private readonly ManualResetEventSlim _released = new(false);

        public bool Hold { get; set; }

        public SemaphoreSlim Flushing => _flushing;

        public void Release() => _released.Set();

        public Stream Open(string path) => new File(this, DurableFileStream.Open(path));

        private sealed class File(HeldFlushDisk disk, Stream inner) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => true;

            public override bool CanWrite => true;

            public override long Length => inner.Length;

            public override long Position
            {
                get => inner.Position;
                set => inner.Position = value;
            }

            public override void Flush()
            {
                if (disk.Hold)
                {
                    disk._flushing.Release();
                    disk._released.Wait(TimeSpan.FromSeconds(10));
                }

                inner.Flush();
            }

            public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

            public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

            public override void SetLength(long value) => inner.SetLength(value);

            public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                }

                base.Dispose(disposing);
            }
        }
    }

    [Test]
    public void Disposing_the_store_while_other_threads_read_it_never_throws_in_the_disposing_thread()
    {
        // A failed start disposes the store while the retail dispatcher or a health check may be reading it; seen once
        // as SynchronizationLockException from Dispose. Each round races eight readers against Dispose.
        for (var round = 0; round < 20; round++)
        {
            var store = new LiteDbGatewayStore(Path.Combine(_dir, $"race-{round}.db"));
            using var go = new ManualResetEventSlim();
            var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var readers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                go.Wait();
                for (var i = 0; i < 200; i++)
                {
                    try
                    {
                        store.PendingSubmissions(10);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                    catch (Exception ex)
                    {
                        unexpected.Enqueue(ex);
                        return;
                    }
                }
            })).ToList();
            readers.ForEach(t => t.Start());
            go.Set();
            Thread.Sleep(round % 3);

            Assert.DoesNotThrow(store.Dispose, $"round {round}");
            readers.ForEach(t => t.Join());
            Assert.That(unexpected, Is.Empty, "a reader after Dispose sees ObjectDisposedException, nothing else");
        }
    }

    [Test]
    public void Orders_awaiting_a_cancel_come_oldest_request_first_and_orders_without_one_never()
    {
        var at = DateTimeOffset.UnixEpoch;
        using var store = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"));
        var batch = new WriteBatch();
        foreach (var (reference, minutes) in new (long, int?)[] { (1, 30), (2, null), (3, 10), (4, 20), (5, null) })
        {
            batch.Orders[reference] = new Pantri.Iot.Domain.Order { Ref = reference, AccountId = "acc", Retailer = "shop", State = Pantri.Iot.Domain.OrderState.Submitted, CreatedAt = at, UpdatedAt = at, CancelRequestedAt = minutes is { } m ? at.AddMinutes(m) : null };
        }

        store.Commit(batch);
        Assert.That(store.FindOrdersAwaitingCancel(10).Select(o => o.Ref), Is.EqualTo(new long[] { 3, 4, 1 }));
        Assert.That(store.FindOrdersAwaitingCancel(2).Select(o => o.Ref), Is.EqualTo(new long[] { 3, 4 }));
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
