using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

// The commit path: the journal (writer thread) and the thread that moves journaled batches into LiteDB.
public sealed partial class LiteDbGatewayStore
{
    /// <summary>Log size that is moved into the data file as soon as nothing waits to be written into LiteDB.</summary>
    public const long IdleCheckpointBytes = 4L * 1024 * 1024;

    /// <summary>Log size that is moved into the data file even under load.</summary>
    public const long ForcedCheckpointBytes = 64L * 1024 * 1024;

    // Journaled batches waiting for LiteDB, in bytes: past this the writer waits for LiteDB to catch up (it would
    // otherwise hold an unbounded backlog in memory and in the journal).
    private const long MaxWaitingBytes = 32L * 1024 * 1024;

    // Past this much waiting, LiteDB's thread starts its next transaction without waiting for the interval.
    private const long ApplyNowBytes = 4L * 1024 * 1024;
    private const int MarkerId = 1;

    private readonly object _sync = new();
    private List<(long Sequence, BsonDocument Record)> _waiting = [];
    private long _waitingBytes;
    private BatchJournal? _journal;
    private Guid _journalId;
    private long _nextSequence;
    private Thread? _applier;
    private bool _stopping;
    private bool _applierIdle;
    private int _readersWaiting;
    private long _lastApplyStart;
    private Exception? _fault;

    /// <summary>Under load, LiteDB's thread starts a transaction at most this often (unless a read waits for it, or
    /// <c>ApplyNowBytes</c> are waiting), so that it merges more batches into each. LiteDB's cost is mostly per page a
    /// transaction dirties — each instruction's, each index's — not per document, so fewer, larger transactions cost
    /// it far less: at 5,000 level reports/s its thread used 0.57 cores applying every batch at once and 0.31 with
    /// 20 ms (docs/benchmarks.md, round 6). Nothing waits for this but reads (acks wait for the journal only), and a
    /// read cuts the wait short.</summary>
    private static readonly TimeSpan ApplyInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How many journaled batches the last open (or reopen) replayed into LiteDB: acknowledged batches LiteDB
    /// did not hold yet when the process stopped.</summary>
    public int ReplayedAtOpen { get; private set; }

    // Sequence numbers of journaled batches: acknowledged (in the journal), readable (committed in LiteDB), and on disk
    // in LiteDB (its log flushed), after which the journal may drop them.
    private long _committed;
    private long _applied;
    private long _durable;

    /// <inheritdoc/>
    public void Commit(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
        {
            return;
        }

        lock (_sync)
        {
            ThrowIfFaulted();
        }

        // Closed by a reopen that failed: nothing is written until one succeeds.
        var journal = _journal ?? throw new IOException("The store is closed until it is reopened.");
        var record = JournalRecord.From(batch, _mapper);
        var bytes = BsonSerializer.Serialize(record);
        var sequence = _nextSequence;
        // The one flush to disk of the batch: its commands are acknowledged when this returns. A failure here may leave
        // the record on disk all the same; the writer answers 503 and reopens the store, which replays whatever the disk
        // kept (a retried RequestId then replays the stored ack if the batch survived).
        journal.Append(sequence, bytes);
        _nextSequence++;
        lock (_sync)
        {
            while (_waitingBytes > MaxWaitingBytes && _fault is null && !_stopping)
            {
                Monitor.Wait(_sync);
            }

            _waiting.Add((sequence, record));
            _waitingBytes += bytes.Length;
            _committed = sequence;
            // LiteDB's thread waits either for a first batch or for its interval; only the first, or a backlog past
            // ApplyNowBytes, is a reason to wake it.
            if (_applierIdle || _waitingBytes > ApplyNowBytes)
            {
                Monitor.PulseAll(_sync);
            }
        }

        try
        {
            journal.SwitchIfFull(Volatile.Read(ref _durable));
        }
        catch (IOException)
        {
            // This batch is on disk and is acknowledged; the journal refuses the next append, which the writer answers
            // by reopening the store.
        }
    }

    // Reads wait until LiteDB holds every batch acknowledged before they began (usually a transaction already under way).
    private void WaitUntilApplied()
    {
        var target = Volatile.Read(ref _committed);
        if (Volatile.Read(ref _applied) >= target)
        {
            return;
        }

        lock (_sync)
        {
            // LiteDB's thread stops waiting for its interval while a read waits for it.
            _readersWaiting++;
            Monitor.PulseAll(_sync);
            try
            {
                while (_applied < target)
                {
                    ThrowIfFaulted();
                    Monitor.Wait(_sync);
                }
            }
            finally
            {
                _readersWaiting--;
            }
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
        {
            throw new IOException("Writing journaled batches into LiteDB failed; the store must be reopened: " + fault.Message, fault);
        }
    }

    // Under the write lock, before the applier runs: replays what the journal holds beyond LiteDB, then starts it anew.
    private void OpenJournal()
    {
        _journal = new BatchJournal(_path, _openFile);
        var markers = _db.GetCollection(LiteDbCollections.Journal);
        var marker = markers.FindById(MarkerId);
        long applied;
        if (marker is null)
        {
            _journalId = Guid.NewGuid();
            applied = 0;
            WriteToLiteDb(null, 0);
            _logStream.Flush();
        }
        else
        {
            _journalId = Guid.Parse(marker["id"].AsString);
            applied = marker["applied"].AsInt64;
        }

        var records = _journal.ReadAfter(_journalId, applied);
        ReplayedAtOpen = records.Count;
        if (records.Count > 0)
        {
            var replay = new PendingChanges();
            foreach (var (sequence, payload) in records)
            {
                replay.Add(sequence, BsonSerializer.Deserialize(payload));
            }

            applied = replay.LastSequence;
            WriteToLiteDb(replay, applied);
            _logStream.Flush();
        }

        // Everything is in LiteDB and on disk: the journal starts empty.
        _journal.Reset(_journalId, applied + 1);
        _nextSequence = applied + 1;
        lock (_sync)
        {
            _committed = _applied = _durable = applied;
            _waiting = [];
            _waitingBytes = 0;
            _fault = null;
            Monitor.PulseAll(_sync);
        }
    }

    // One transaction with the journal's marker, then its log flushed to disk: LiteDB holds batches up to
    // upToSequence across a power cut, so the journal may drop them.
    private void WriteToLiteDb(PendingChanges? changes, long upToSequence, bool allKeys = false)
    {
        _db.BeginTrans();
        try
        {
            if (changes is not null)
            {
                changes.ApplyTo(_db);
                _keyIndex.Added(changes.Inserted(LiteDbCollections.Commands));
            }

            _keyIndex.WriteSlice(_db, allKeys);
            _db.GetCollection(LiteDbCollections.Journal).Upsert(new BsonDocument
            {
                ["_id"] = MarkerId,
                ["id"] = _journalId.ToString(),
                ["applied"] = upToSequence,
            });
            _db.Commit();
            _keyIndex.SliceCommitted();
        }
        catch
        {
            try
            {
                _db.Rollback();
            }
            catch (Exception rollback) when (rollback is LiteException or IOException or ObjectDisposedException)
            {
                // The engine closed itself on the I/O error: nothing to roll back. The commit's own error is the one to
                // report; the transaction left behind must not be finalized (see AbandonedTransactions).
                AbandonedTransactions.SuppressFinalizers(_db);
            }

            throw;
        }
    }

    // At a clean stop, after the applier stopped.
    private void IndexRemainingKeys()
    {
        if (_fault is not null || _keyIndex.Unindexed == 0)
        {
            return;
        }

        _gate.EnterWriteLock();
        try
        {
            WriteToLiteDb(null, Volatile.Read(ref _applied), allKeys: true);
            _logStream.Flush();
        }
        catch (Exception ex) when (ex is LiteException or IOException)
        {
            // The next open reads them back from the commands.
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    // At a clean stop, once LiteDB holds everything on disk: the next open has nothing to read.
    private void EmptyJournal()
    {
        try
        {
            if (_journal is { } journal && _fault is null && Volatile.Read(ref _durable) == Volatile.Read(ref _committed))
            {
                journal.Reset(_journalId, _nextSequence);
            }
        }
        catch (IOException)
        {
            // The records stay and are skipped at the next open (LiteDB holds them).
        }
    }

    private void StartApplying()
    {
        _stopping = false;
        _applier = new Thread(ApplyLoop) { IsBackground = true, Name = "pantri-litedb" };
        _applier.Start();
    }

    // Lets the applier write everything waiting (unless it failed), then stops it.
    private void StopApplying()
    {
        var applier = _applier;
        if (applier is null)
        {
            return;
        }

        lock (_sync)
        {
            _stopping = true;
            Monitor.PulseAll(_sync);
        }

        applier.Join();
        _applier = null;
    }

    private void ApplyLoop()
    {
        var changes = new PendingChanges();
        var taken = new List<(long Sequence, BsonDocument Record)>();
        while (true)
        {
            lock (_sync)
            {
                while (_waiting.Count == 0 && !_stopping)
                {
                    _applierIdle = true;
                    Monitor.Wait(_sync);
                }

                _applierIdle = false;
                if (_waiting.Count == 0)
                {
                    return;
                }

                WaitForInterval();
                _lastApplyStart = Environment.TickCount64;

                (taken, _waiting) = (_waiting, taken);
                _waitingBytes = 0;
                Monitor.PulseAll(_sync);
            }

            try
            {
                foreach (var (sequence, record) in taken)
                {
                    changes.Add(sequence, record);
                }

                _gate.EnterWriteLock();
                try
                {
                    WriteToLiteDb(changes, changes.LastSequence);
                }
                finally
                {
                    _gate.ExitWriteLock();
                }

                lock (_sync)
                {
                    _applied = changes.LastSequence;
                    Monitor.PulseAll(_sync);
                }

                // Outside the lock: readers may already see what is not yet on disk in LiteDB — it is in the journal.
                _logStream.Flush();
                Volatile.Write(ref _durable, changes.LastSequence);
                CompactLog(idle: Volatile.Read(ref _waitingBytes) == 0);
            }
            catch (Exception ex)
            {
                // Commits and reads now fail until the writer reopens the store, which replays the journal.
                lock (_sync)
                {
                    _fault = ex;
                    Monitor.PulseAll(_sync);
                }

                return;
            }
            finally
            {
                changes.Clear();
                taken.Clear();
            }
        }
    }

    // Under _sync: the applier's wait between two transactions (see ApplyInterval). A first batch after a quiet spell
    // goes at once.
    private void WaitForInterval()
    {
        var due = _lastApplyStart + (long)ApplyInterval.TotalMilliseconds;
        for (var now = Environment.TickCount64; now < due && !_stopping && _readersWaiting == 0 && _waitingBytes <= ApplyNowBytes; now = Environment.TickCount64)
        {
            Monitor.Wait(_sync, (int)(due - now));
        }
    }

    // A checkpoint copies the log's pages into the data file and empties the log; readers go on meanwhile.
    private void CompactLog(bool idle)
    {
        if (_logStream.Length < (idle ? IdleCheckpointBytes : ForcedCheckpointBytes))
        {
            return;
        }

        _gate.EnterReadLock();
        try
        {
            // LiteDB flushes the data file to disk before it empties the log; the emptied log is flushed too, so that
            // after a power cut an old log (whose transaction ids LiteDB restarts from 0) is never read back with new
            // pages written over part of it.
            _db.Checkpoint();
            _logStream.Flush();
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }
}
