using LiteDB;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>LiteDB storage, one database per process, its two files opened by the store (LiteDB's stream mode) so that
/// a commit can be made durable: LiteDB writes each commit to its log file and never asks the disk to keep it, so
/// <see cref="Commit"/> flushes the log to disk (fsync) once per batch before it returns — nothing is acknowledged that
/// a power cut could take back (docs/architecture.md, durability). Commits are synchronous and stay on the calling
/// thread (LiteDB transactions are thread-bound). After a failed write LiteDB may keep failing (an I/O error closes its
/// engine for good), so the writer calls <see cref="Reopen"/> to recover.</summary>
public sealed class LiteDbGatewayStore : IGatewayStore
{
    private static readonly string[] OpenStates = [nameof(OrderState.AwaitingApproval), nameof(OrderState.Placed), nameof(OrderState.Submitted), nameof(OrderState.Confirmed), nameof(OrderState.Shipped)];
    private readonly string _path;
    private readonly string _logPath;
    private readonly Func<string, Stream> _openFile;

    // Reads come from any thread, commits and Reopen from the writer's, both under the write lock: Reopen swaps the
    // database, and a commit is invisible to readers until it is on disk.
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private LiteDatabase _db = null!;
    private Stream? _dataStream;
    private Stream _logStream = Stream.Null;
    private ILiteCollection<Device> _devices = null!;
    private ILiteCollection<Instruction> _instructions = null!;
    private ILiteCollection<Order> _orders = null!;
    private ILiteCollection<Household> _households = null!;
    private ILiteCollection<HouseholdUser> _users = null!;
    private ILiteCollection<PairingCode> _pairingCodes = null!;
    private ILiteCollection<AuditEntry> _audit = null!;
    private ILiteCollection<OutboxEntry> _outbox = null!;
    private ILiteCollection<CommandRecord> _commands = null!;
    private ILiteCollection<GatewayMeta> _meta = null!;
    private ILiteCollection<HouseholdSafeguards> _safeguards = null!;
    private int _disposed;

    /// <summary>Opens (or creates) the database file and its log as <see cref="DurableFileStream"/>s.</summary>
    public LiteDbGatewayStore(string path)
        : this(path, null)
    {
    }

    /// <summary>Opens (or creates) the database at <paramref name="path"/>, its data and log files through
    /// <paramref name="openFile"/> when given (a disk that can be made to fail or lose power, in tests) and as
    /// <see cref="DurableFileStream"/>s otherwise. The streams' <see cref="Stream.Flush()"/> must reach the disk.</summary>
    public LiteDbGatewayStore(string path, Func<string, Stream>? openFile)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        _logPath = LogPathOf(path);
        _openFile = openFile ?? DurableFileStream.Open;
        Open();
    }

    /// <summary>Closes the database and opens it again, as after a restart: LiteDB recovers its committed transactions
    /// from the log and drops the one that failed. Throws when the files cannot be opened (the store then stays closed
    /// until a later call succeeds). Called by the writer thread only.</summary>
    public void Reopen()
    {
        _gate.EnterWriteLock();
        try
        {
            Close();
            Open();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>The write-ahead log LiteDB keeps next to the database file at <paramref name="path"/>
    /// (<c>pantri.db</c> → <c>pantri-log.db</c>).</summary>
    public static string LogPathOf(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    /// <inheritdoc/>
    public StoredState Load() => Read(() =>
    {
        var meta = _meta.FindById(GatewayMeta.DocumentId) ?? new GatewayMeta();
        var open = _orders.Find(Query.In(nameof(Order.State), OpenStates.Select(s => new BsonValue(s)))).ToList();
        return new StoredState(_devices.FindAll().ToList(), _instructions.FindAll().ToList(), open, meta, _safeguards.FindAll().ToList())
        {
            Households = _households.FindAll().ToList(),
            Users = _users.FindAll().ToList(),
            PairingCodes = _pairingCodes.FindAll().ToList(),
        };
    });

    /// <inheritdoc/>
    public GatewayMeta? LoadMeta() => Read(() => _meta.FindById(GatewayMeta.DocumentId));

    /// <inheritdoc/>
    public void Commit(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
        {
            return;
        }

        // Exclusive: LiteDB shows a transaction to readers as soon as it commits, before the flush below has put it on
        // disk; the retail dispatcher must never read (and send to a retailer) an order a power cut could still undo.
        _gate.EnterWriteLock();
        try
        {
            CommitLocked(batch);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private void CommitLocked(WriteBatch batch)
    {
        _db.BeginTrans();
        try
        {
            foreach (var device in batch.Devices.Values)
            {
                _devices.Upsert(device);
            }

            foreach (var instruction in batch.Instructions.Values)
            {
                _instructions.Upsert(instruction);
            }

            foreach (var reference in batch.InstructionsDeleted)
            {
                _instructions.Delete(reference);
            }

            foreach (var (id, household) in batch.Households)
            {
                _ = household is null ? _households.Delete(id) : _households.Upsert(household);
            }

            foreach (var (key, user) in batch.Users)
            {
                _ = user is null ? _users.Delete(key) : _users.Upsert(user);
            }

            foreach (var (hash, code) in batch.PairingCodes)
            {
                _ = code is null ? _pairingCodes.Delete(hash) : _pairingCodes.Upsert(code);
            }

            foreach (var order in batch.Orders.Values)
            {
                _orders.Upsert(order);
            }

            foreach (var safeguards in batch.Safeguards.Values)
            {
                _safeguards.Upsert(safeguards);
            }

            foreach (var entry in batch.Outbox.Values)
            {
                _outbox.Upsert(entry);
            }

            foreach (var orderRef in batch.OutboxDone)
            {
                _outbox.Delete(orderRef);
            }

            if (batch.Audit.Count > 0)
            {
                _audit.InsertBulk(batch.Audit);
            }

            if (batch.Meta is not null)
            {
                _meta.Upsert(batch.Meta);
            }

            if (batch.Commands.Count > 0)
            {
                foreach (var command in batch.Commands)
                {
                    command.KeyHash = command.IdempotencyKey is { } key ? IdempotencyKeyHash.Of(key) : null;
                }

                _commands.InsertBulk(batch.Commands);
            }

            _db.Commit();
            // The one flush to disk of the batch: its commands are acknowledged when this returns. A failure here leaves
            // the commit visible in LiteDB but perhaps not on disk; the writer answers 503 and reopens the store, which
            // reads back whatever the disk kept (a retried RequestId then replays the stored ack if the commit survived).
            _logStream.Flush();
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

    /// <summary>Log size that is moved into the data file as soon as the writer has nothing queued.</summary>
    public const long IdleCheckpointBytes = 4L * 1024 * 1024;

    /// <summary>Log size that is moved into the data file even under load.</summary>
    public const long ForcedCheckpointBytes = 64L * 1024 * 1024;

    /// <inheritdoc/>
    public void CompactLog(bool idle)
    {
        if (Read(() => _logStream.Length) >= (idle ? IdleCheckpointBytes : ForcedCheckpointBytes))
        {
            Read(() =>
            {
                // LiteDB flushes the data file to disk before it empties the log; the emptied log is flushed too, so that
                // after a power cut an old log (whose transaction ids LiteDB restarts from 0) is never read back with
                // new pages written over part of it.
                _db.Checkpoint();
                _logStream.Flush();
                return true;
            });
        }
    }

    /// <inheritdoc/>
    /// <remarks>A checkpoint first moves every committed page of the log into the data file, then both files are
    /// copied (the log is normally empty by then). Readers on other threads go on meanwhile; writes cannot, since the
    /// writer thread is the one copying.</remarks>
    public void Backup(string directory)
    {
        Read(() =>
        {
            _db.Checkpoint();
            CopyFile(_path, Path.Combine(directory, Path.GetFileName(_path)));
            if (File.Exists(_logPath) && new FileInfo(_logPath).Length > 0)
            {
                CopyFile(_logPath, Path.Combine(directory, Path.GetFileName(_logPath)));
            }

            return true;
        });
    }

    private static void CopyFile(string from, string to)
    {
        // Shared read-write: LiteDB keeps the file open for writing; nothing writes it while the writer thread copies.
        using var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var target = new FileStream(to, FileMode.CreateNew, FileAccess.Write);
        source.CopyTo(target);
        target.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public CommandRecord? FindCommandByKey(string idempotencyKey)
    {
        var hash = IdempotencyKeyHash.Of(idempotencyKey);
        // A prepared query: after a start with a long history this runs once per new RequestId, and LiteDB would
        // translate a lambda into a query on every call.
        return Read(() => _commands.Find(Query.EQ(nameof(CommandRecord.KeyHash), new BsonValue(hash))).Where(c => c.IdempotencyKey == idempotencyKey).MaxBy(c => c.At));
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit) =>
        Read<IReadOnlyList<(string, long, DateTimeOffset)>>(() => _commands.Query()
            .Where(c => c.At >= since && c.IdempotencyKey != null)
            .OrderByDescending(c => c.At)
            .Limit(limit)
            .ToEnumerable()
            .Select(c => (c.IdempotencyKey!, c.Sequence, c.At))
            .ToList());

    /// <inheritdoc/>
    public CommandRecord? FindCommandBySequence(long sequence) => Read(() => _commands.FindById(sequence));

    /// <inheritdoc/>
    public Order? FindOrder(long orderRef) => Read(() => _orders.FindById(orderRef));

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrders(string accountId, int limit) =>
        Read<IReadOnlyList<Order>>(() => _orders.Find(o => o.AccountId == accountId).OrderByDescending(o => o.CreatedAt).Take(limit).ToList());

    /// <inheritdoc/>
    public IReadOnlyList<AuditEntry> FindAudit(string accountId, int limit) =>
        Read<IReadOnlyList<AuditEntry>>(() => _audit.Query().Where(a => a.AccountId == accountId).OrderByDescending(a => a.Id).Limit(limit).ToList());

    /// <inheritdoc/>
    public IReadOnlyList<OutboxEntry> PendingSubmissions(int limit) =>
        Read<IReadOnlyList<OutboxEntry>>(() => _outbox.Query().OrderBy(e => e.QueuedAt).Limit(limit).ToList());

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersInState(OrderState state, int limit) =>
        Read<IReadOnlyList<Order>>(() => _orders.Find(Query.EQ(nameof(Order.State), state.ToString()), limit: limit).ToList());

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersAwaitingCancel(int limit) =>
        Read<IReadOnlyList<Order>>(() => _orders.Query().Where(o => o.CancelRequestedAt != null).OrderBy(o => o.CancelRequestedAt).Limit(limit).ToList());

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _gate.EnterWriteLock();
        try
        {
            Close();
        }
        finally
        {
            _gate.ExitWriteLock();
        }

        // The lock itself is left to the GC: a reader on another thread (the dispatcher's poll, a health check) may be
        // waiting for it right now, and disposing a lock with waiters throws in the disposing thread. Such a reader
        // gets ObjectDisposedException below instead.
    }

    private T Read<T>(Func<T> read)
    {
        _gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return read();
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private void Open()
    {
        var mapper = CreateMapper();
        _dataStream = _openFile(_path);
        _logStream = _openFile(_logPath);
        _db = new LiteDatabase(_dataStream, mapper, _logStream);

        _devices = _db.GetCollection<Device>("devices");
        _instructions = _db.GetCollection<Instruction>("instructions");
        _orders = _db.GetCollection<Order>("orders");
        _households = _db.GetCollection<Household>("households");
        _users = _db.GetCollection<HouseholdUser>("users");
        _pairingCodes = _db.GetCollection<PairingCode>("pairingcodes");
        _audit = _db.GetCollection<AuditEntry>("audit");
        _outbox = _db.GetCollection<OutboxEntry>("outbox");
        _commands = _db.GetCollection<CommandRecord>("commands");
        _meta = _db.GetCollection<GatewayMeta>("meta");
        _safeguards = _db.GetCollection<HouseholdSafeguards>("safeguards");
        // LiteDB would checkpoint inside whichever commit crosses 1,000 log pages, stalling that batch's acks for
        // tens of milliseconds; CompactLog does it between batches instead.
        _db.CheckpointSize = 0;
        _orders.EnsureIndex(o => o.State);
        _orders.EnsureIndex(o => o.AccountId);
        // The dispatcher looks for household cancels to forward every poll; almost every order has none.
        _orders.EnsureIndex(o => o.CancelRequestedAt);
        _audit.EnsureIndex(a => a.AccountId);
        // The dispatcher reads the outbox oldest first every poll; without the index that is a sort of the whole queue.
        _outbox.EnsureIndex(e => e.QueuedAt);
        _commands.EnsureIndex(c => c.KeyHash);
        // Lets the writer load the idempotency window's keys at start instead of reading the key index per command.
        _commands.EnsureIndex(c => c.At);
    }

    // A database whose engine failed may fail to close as well; its files are released either way.
    private void Close()
    {
        try
        {
            if (_db is not null)
            {
                AbandonedTransactions.SuppressFinalizers(_db);
            }

            _db?.Dispose();
        }
        catch (Exception ex) when (ex is LiteException or IOException or ObjectDisposedException)
        {
        }

        _logStream.Dispose();
        _dataStream?.Dispose();
        _logStream = Stream.Null;
        _dataStream = null;
    }

    private static BsonMapper CreateMapper()
    {
        // Strings are stored and compared exactly as given: LiteDB would otherwise trim them (and store "" as null) on
        // the way in — in queries too — so an id or idempotency key stored in one form would be looked up in another.
        var mapper = new BsonMapper { TrimWhitespace = false, EmptyStringToNull = false };
        // Ticks keep full precision and no time-zone conversion, unlike LiteDB's DateTime mapping.
        mapper.RegisterType(v => new BsonValue(v.UtcTicks), b => new DateTimeOffset(b.AsInt64, TimeSpan.Zero));
        mapper.Entity<Device>().Id(d => d.DeviceId, autoId: false).Ignore(d => d.IsRevoked);
        mapper.Entity<Household>().Id(h => h.AccountId, autoId: false);
        mapper.Entity<HouseholdUser>().Id(u => u.Key, autoId: false);
        mapper.Entity<PairingCode>().Id(c => c.CodeHash, autoId: false);
        mapper.Entity<AuditEntry>().Id(a => a.Id, autoId: true);
        mapper.Entity<Instruction>().Id(i => i.Ref, autoId: false);
        mapper.Entity<Order>().Id(o => o.Ref, autoId: false).Ignore(o => o.IsOpen);
        mapper.Entity<OutboxEntry>().Id(e => e.OrderRef, autoId: false);
        mapper.Entity<CommandRecord>().Id(c => c.Sequence, autoId: false);
        mapper.Entity<GatewayMeta>().Id(m => m.Id, autoId: false);
        mapper.Entity<HouseholdSafeguards>().Id(s => s.AccountId, autoId: false);
        return mapper;
    }
}
