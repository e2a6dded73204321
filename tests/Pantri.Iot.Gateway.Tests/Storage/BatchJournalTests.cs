using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Storage;

/// <summary>The store's journal: a batch is acknowledged once it is in the journal on disk, before LiteDB holds it, so
/// whatever LiteDB did not take in must come back from the journal when the store opens.</summary>
[Category("Integration")]
public sealed class BatchJournalTests : StoreDirectoryTest
{

    [Test]
    public void A_batch_LiteDB_could_not_take_in_is_replayed_from_the_journal_when_the_store_is_reopened()
    {
        // Batch 1 is in LiteDB on disk before the disk fills (a clean stop writes everything in).
        using (var first = new LiteDbGatewayStore(StorePath))
        {
            first.Commit(Commands(1, 2));
        }

        var disk = new FullDisk();
        using var store = new LiteDbGatewayStore(StorePath, LiteDbFilesOn(disk));
        disk.Full = true;

        store.Commit(Commands(3, 4));

        Assert.Throws<IOException>(() => store.FindCommandBySequence(3), "LiteDB failed: a read cannot show what was acknowledged, so it fails");
        Assert.Throws<IOException>(() => store.Commit(Commands(5)), "and commits are refused until the store is reopened");
        disk.Full = false;
        store.Reopen();
        Assert.That(store.ReplayedAtOpen, Is.EqualTo(1), "the batch LiteDB never took in");
        Assert.That(Enumerable.Range(1, 4).Select(s => store.FindCommandBySequence(s)?.CommandRef), Is.EqualTo(new long?[] { 101, 102, 103, 104 }));
        store.Commit(Commands(5));
        Assert.That(store.FindCommandBySequence(5)?.CommandRef, Is.EqualTo(105));
    }

    [Test]
    public void A_torn_last_record_is_dropped_and_every_record_before_it_is_replayed()
    {
        JournalAheadOfLiteDb(5);

        // The last record's end never reached the disk: its last bytes are the zeros the file was grown with.
        var journal = BatchJournal.PathOf(StorePath, 0);
        var bytes = File.ReadAllBytes(journal);
        var last = Array.FindLastIndex(bytes, b => b != 0);
        Array.Clear(bytes, last - 6, 7);
        File.WriteAllBytes(journal, bytes);

        using (var reopened = new LiteDbGatewayStore(StorePath))
        {
            Assert.That(Enumerable.Range(1, 5).Select(s => reopened.FindCommandBySequence(s)?.CommandRef), Is.EqualTo(new long?[] { 101, 102, 103, 104, null }));
            Assert.That(reopened.ReplayedAtOpen, Is.EqualTo(4), "the four whole records were replayed");
            reopened.Commit(Commands(6));
        }

        using var again = new LiteDbGatewayStore(StorePath);
        Assert.That(again.FindCommandBySequence(6)?.CommandRef, Is.EqualTo(106), "the journal goes on after the torn record");
    }

    [Test]
    public void A_journal_left_from_another_database_is_not_replayed()
    {
        JournalAheadOfLiteDb(1);
        var journal = File.ReadAllBytes(BatchJournal.PathOf(StorePath, 0));
        foreach (var file in Directory.GetFiles(Dir))
        {
            File.Delete(file);
        }

        // A new database (a restored backup, say) next to that journal.
        new LiteDbGatewayStore(StorePath).Dispose();
        File.WriteAllBytes(BatchJournal.PathOf(StorePath, 0), journal);
        using var fresh = new LiteDbGatewayStore(StorePath);
        Assert.That(fresh.FindCommandBySequence(1), Is.Null);
    }

    [Test]
    public void Once_the_first_file_is_full_the_journal_goes_on_in_the_second_and_replays_from_both()
    {
        var big = new byte[256 * 1024];
        var journals = new[] { BatchJournal.PathOf(StorePath, 0), BatchJournal.PathOf(StorePath, 1) };
        var before = Path.Combine(Dir, "before");
        Directory.CreateDirectory(before);
        var sequence = 0;
        using (var store = new LiteDbGatewayStore(StorePath))
        {
            // Past the switch size, so the journal has moved on to the second file and may have come back to the first.
            while (sequence * (long)big.Length < BatchJournal.SwitchBytes * 3 / 2)
            {
                store.Commit(Commands(big, ++sequence));
            }

            Assert.That(store.FindCommandBySequence(sequence), Is.Not.Null);
            // A copy taken while LiteDB moves its log into the data file would not open: wait until that is done.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (new FileInfo(LiteDbGatewayStore.LogPathOf(StorePath)).Length >= LiteDbGatewayStore.IdleCheckpointBytes && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }

            File.Copy(StorePath, Path.Combine(before, "pantri.db"));
            File.Copy(LiteDbGatewayStore.LogPathOf(StorePath), Path.Combine(before, "pantri-log.db"));
            var upTo = sequence;
            for (var i = 0; i < 5; i++)
            {
                store.Commit(Commands(big, ++sequence));
            }

            Assert.That(store.FindCommandBySequence(sequence), Is.Not.Null);
            Assert.That(journals.Select(j => new FileInfo(j).Length), Is.All.GreaterThan(BatchJournal.SwitchBytes / 4), "both files were written");
            foreach (var journal in journals)
            {
                File.Copy(journal, Path.Combine(before, Path.GetFileName(journal)));
            }

            TestContext.Out.WriteLine($"LiteDB copied at batch {upTo}, journal at batch {sequence}");
        }

        // LiteDB as it was before the last five batches, the journal as it was after them.
        foreach (var file in Directory.GetFiles(before))
        {
            File.Copy(file, Path.Combine(Dir, Path.GetFileName(file)), overwrite: true);
        }

        using var reopened = new LiteDbGatewayStore(StorePath);
        Assert.That(Enumerable.Range(1, sequence).Where(s => reopened.FindCommandBySequence(s) is null), Is.Empty);
    }

    // LiteDB's files as they were before batches 1..count, the journal as it was after them: what a process killed
    // before its LiteDB thread took them in leaves.
    private void JournalAheadOfLiteDb(int count)
    {
        new LiteDbGatewayStore(StorePath).Dispose();
        var before = Path.Combine(Dir, "before");
        Directory.CreateDirectory(before);
        var liteDbFiles = new[] { StorePath, LiteDbGatewayStore.LogPathOf(StorePath) }.Where(File.Exists).ToList();
        liteDbFiles.ForEach(f => File.Copy(f, Path.Combine(before, Path.GetFileName(f))));
        var journals = new[] { BatchJournal.PathOf(StorePath, 0), BatchJournal.PathOf(StorePath, 1) };
        var after = Path.Combine(Dir, "after");
        Directory.CreateDirectory(after);
        using (var store = new LiteDbGatewayStore(StorePath))
        {
            for (var i = 1; i <= count; i++)
            {
                store.Commit(Commands(i));
            }

            Assert.That(store.FindCommandBySequence(count), Is.Not.Null);
            foreach (var journal in journals)
            {
                File.Copy(journal, Path.Combine(after, Path.GetFileName(journal)));
            }
        }

        File.Delete(LiteDbGatewayStore.LogPathOf(StorePath));
        liteDbFiles.ForEach(f => File.Copy(Path.Combine(before, Path.GetFileName(f)), f, overwrite: true));
        foreach (var journal in journals)
        {
            File.Copy(Path.Combine(after, Path.GetFileName(journal)), journal, overwrite: true);
        }

        Directory.Delete(before, recursive: true);
        Directory.Delete(after, recursive: true);
    }

    // The journal on a real disk, LiteDB's two files on one that can fill up.
    private static Func<string, Stream> LiteDbFilesOn(FullDisk disk) =>
        path => Path.GetFileName(path).Contains("-journal-", StringComparison.Ordinal) ? DurableFileStream.Open(path) : disk.Open(path);

    private static WriteBatch Commands(params int[] sequences) => Commands([1, 2, 3], sequences);

    private static WriteBatch Commands(byte[] ack, params int[] sequences)
    {
        var batch = new WriteBatch();
        foreach (var sequence in sequences)
        {
            batch.Commands.Add(new CommandRecord { Sequence = sequence, CommandRef = 100 + sequence, IdempotencyKey = "dev\n" + sequence, Kind = "level", At = DateTimeOffset.UnixEpoch, Ack = ack });
        }

        return batch;
    }
}
