using LiteDB;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Storage;

/// <summary>LiteDB's store merges idempotency keys into its key buckets a chunk at a time: a resent RequestId must be
/// found by key whether its command's key is in the buckets or still in memory, across a clean stop, a stop that could
/// not index the rest, and the first open of a database from before the buckets.</summary>
[Category("Integration")]
public sealed class CommandKeyIndexTests : StoreDirectoryTest
{
    // A chunk is written over four transactions (30, 30, 30, 10).
    private const int Chunk = 100;
    private const int Slice = 30;

    [Test]
    public void Every_key_is_found_before_and_after_a_clean_stop_and_the_stop_indexes_what_memory_held()
    {
        using (var store = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice)))
        {
            CommitKeyed(store, 1, 250);
            AssertEveryKeyFound(store, 250);
        }

        Assert.That(IndexedKeys(), Is.EqualTo(250), "a clean stop wrote the keys of the last, unfinished chunk too");
        using var reopened = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice));
        AssertEveryKeyFound(reopened, 250);
    }

    [Test]
    public void Keys_a_stop_could_not_index_are_read_back_from_the_commands_at_the_next_open()
    {
        var disk = new FullDisk();
        using (var store = new LiteDbGatewayStore(StorePath, LiteDbFilesOn(disk), new CommandKeyIndex(Chunk, Slice)))
        {
            // The second chunk is sealed at key 200 and three of its four slices are written by key 220.
            CommitKeyed(store, 1, 220);
            AssertEveryKeyFound(store, 220);
            // The stop cannot write the rest: as after a killed process, those keys are in the commands only.
            disk.Full = true;
        }

        // A slice ends with a whole bucket, so it may take a pair or two more.
        Assert.That(IndexedKeys(), Is.InRange(190, 199), "the first chunk and three slices of the second were written while the store ran");
        using (var reopened = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice)))
        {
            AssertEveryKeyFound(reopened, 220);
            CommitKeyed(reopened, 221, 330);
            AssertEveryKeyFound(reopened, 330);
        }

        Assert.That(IndexedKeys(), Is.EqualTo(330), "each key once: the cut-short chunk's pairs were not doubled when merged again");
    }

    [Test]
    public void A_resent_key_finds_its_newest_command_in_memory_and_in_the_index_alike()
    {
        using var store = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice));
        CommitKeyed(store, 1, 150);
        // Key "dev\n7" again as command 151 (a RequestId resent after its window): the first is in an indexed chunk,
        // the second still in memory.
        store.Commit(Batch((151, "dev\n7", DateTimeOffset.UnixEpoch.AddDays(2))));
        Assert.That(store.FindCommandByKey("dev\n7")?.Sequence, Is.EqualTo(302));
        CommitKeyed(store, 152, 260);
        Assert.That(store.FindCommandByKey("dev\n7")?.Sequence, Is.EqualTo(302), "both in indexed chunks now");
        Assert.That(store.FindCommandByKey("dev\n9999"), Is.Null);
    }

    [Test]
    public void Keys_older_than_the_retention_before_the_newest_command_leave_the_buckets()
    {
        var start = DateTimeOffset.UnixEpoch;
        // Four buckets, so every chunk touches each of them (with 4,096, a chunk of 32,768 keys does too).
        using (var store = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice, TimeSpan.FromHours(1), buckets: 4)))
        {
            CommitKeyed(store, 1, 100, start);
            CommitKeyed(store, 101, 150, start.AddMinutes(50));
            CommitKeyed(store, 151, 250, start.AddMinutes(100));
            Assert.That(Enumerable.Range(1, 100).Where(n => store.FindCommandByKey("dev\n" + n) is not null), Is.Empty, "more than an hour before the newest: not kept");
            Assert.That(Enumerable.Range(101, 150).Where(n => store.FindCommandByKey("dev\n" + n)?.CommandRef != 1000 + n), Is.Empty, "inside the hour: kept");
        }

        Assert.That(IndexedKeys(), Is.EqualTo(150));
    }

    [Test]
    public void A_database_from_before_the_chunks_has_its_commands_key_index_moved_at_the_first_open()
    {
        using (var store = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice)))
        {
            CommitKeyed(store, 1, 120);
        }

        // As the previous version left it: the hash indexed on the commands themselves, no chunks, no watermark.
        using (var old = new LiteDatabase(StorePath))
        {
            old.DropCollection(LiteDbCollections.CommandKeys);
            old.GetCollection(LiteDbCollections.Journal).Delete("keys");
            old.GetCollection(LiteDbCollections.Commands).EnsureIndex(nameof(CommandRecord.KeyHash));
        }

        using (var upgraded = new LiteDbGatewayStore(StorePath, null, new CommandKeyIndex(Chunk, Slice)))
        {
            AssertEveryKeyFound(upgraded, 120);
            CommitKeyed(upgraded, 121, 140);
            AssertEveryKeyFound(upgraded, 140);
        }

        using var check = new LiteDatabase(StorePath);
        Assert.That(check.GetCollection("$indexes").Find(Query.EQ("collection", LiteDbCollections.Commands)).Select(i => i["name"].AsString), Has.None.EqualTo(nameof(CommandRecord.KeyHash)), "the commands' own hash index is gone");
        Assert.That(CommandKeyIndex.Count(check), Is.EqualTo(140));
    }

    // Batches of ten keys, each read back before the next, so LiteDB takes each in a transaction of its own and the
    // chunks end exactly at multiples of Chunk.
    private static void CommitKeyed(LiteDbGatewayStore store, int from, int to, DateTimeOffset? at = null)
    {
        for (var first = from; first <= to; first += 10)
        {
            store.Commit(Batch(Enumerable.Range(first, Math.Min(10, to - first + 1)).Select(n => ((long)n, "dev\n" + n, at ?? DateTimeOffset.UnixEpoch)).ToArray()));
            Assert.That(store.FindCommandBySequence(2L * first), Is.Not.Null);
        }
    }

    private static WriteBatch Batch(params (long Sequence, string Key, DateTimeOffset At)[] commands)
    {
        var batch = new WriteBatch();
        // Command n has sequence 2n; each is followed by one without a key (sequence 2n + 1), for which nothing is indexed.
        foreach (var (n, key, at) in commands)
        {
            batch.Commands.Add(new CommandRecord { Sequence = 2 * n, CommandRef = 1000 + n, IdempotencyKey = key, Kind = "trigger", At = at, Ack = [1] });
            batch.Commands.Add(new CommandRecord { Sequence = (2 * n) + 1, CommandRef = 1, Kind = "level", At = at, Ack = [1] });
        }

        return batch;
    }

    private static void AssertEveryKeyFound(LiteDbGatewayStore store, int upTo) =>
        Assert.That(Enumerable.Range(1, upTo).Where(s => store.FindCommandByKey("dev\n" + s)?.CommandRef != 1000 + s), Is.Empty, "keys not found");

    private int IndexedKeys()
    {
        using var database = new LiteDatabase(StorePath);
        return CommandKeyIndex.Count(database);
    }

    private static Func<string, Stream> LiteDbFilesOn(FullDisk disk) =>
        path => Path.GetFileName(path).Contains("-journal-", StringComparison.Ordinal) ? DurableFileStream.Open(path) : disk.Open(path);
}
