using LiteDB;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>LiteDB storage in direct mode, one database per process. Commits are synchronous and stay on the
/// calling thread (LiteDB transactions are thread-bound). LiteDB writes each commit to its log file without
/// fsync: a killed process keeps every commit, a power cut can lose the last ones. After a failed write LiteDB may keep
/// failing (an I/O error closes its engine for good), so the writer calls <see cref="Reopen"/> to recover.</summary>
public sealed class LiteDbGatewayStore : IGatewayStore
{
    private static readonly string[] OpenStates = [nameof(OrderState.Placed), nameof(OrderState.Submitted), nameof(OrderState.Confirmed), nameof(OrderState.Shipped)];
    private readonly string _path;
    private readonly string _logPath;
    private readonly Func<string, Stream>? _openFile;

    // Reads come from any thread, commits and Reopen from the writer's: Reopen swaps the database under the write lock.
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private LiteDatabase _db = null!;
    private Stream? _dataStream;
    private Stream? _logStream;
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
    private int _disposed;

    /// <summary>Opens (or creates) the database file.</summary>
    public LiteDbGatewayStore(string path)
        : this(path, null)
    {
    }

    /// <summary>Opens (or creates) the database at <paramref name="path"/>, its data and log files through
    /// <paramref name="openFile"/> when given (LiteDB's stream mode: a disk that can be made to fail, in tests) and as
    /// plain files otherwise.</summary>
    public LiteDbGatewayStore(string path, Func<string, Stream>? openFile)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        _logPath = LogPathOf(path);
        _openFile = openFile;
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
        return new StoredState(_devices.FindAll().ToList(), _instructions.FindAll().ToList(), open, meta)
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

        _gate.EnterReadLock();
        try
        {
            CommitLocked(batch);
        }
        finally
        {
            _gate.ExitReadLock();
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
        var log = new FileInfo(_logPath);
        if (log.Exists && log.Length >= (idle ? IdleCheckpointBytes : ForcedCheckpointBytes))
        {
            Read(() =>
            {
                _db.Checkpoint();
                return true;
            });
        }
    }

    /// <inheritdoc/>
    public CommandRecord? FindCommandByKey(string idempotencyKey)
    {
        var hash = IdempotencyKeyHash.Of(idempotencyKey);
        return Read(() => _commands.Find(c => c.KeyHash == hash).Where(c => c.IdempotencyKey == idempotencyKey).MaxBy(c => c.At));
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

        _gate.Dispose();
    }

    private T Read<T>(Func<T> read)
    {
        _gate.EnterReadLock();
        try
        {
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
        if (_openFile is null)
        {
            _db = new LiteDatabase(new ConnectionString { Filename = _path, Connection = ConnectionType.Direct }, mapper);
        }
        else
        {
            _dataStream = _openFile(_path);
            _logStream = _openFile(_logPath);
            _db = new LiteDatabase(_dataStream, mapper, _logStream);
        }

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
        // LiteDB would checkpoint inside whichever commit crosses 1,000 log pages, stalling that batch's acks for
        // tens of milliseconds; CompactLog does it between batches instead.
        _db.CheckpointSize = 0;
        _orders.EnsureIndex(o => o.State);
        _orders.EnsureIndex(o => o.AccountId);
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

        _logStream?.Dispose();
        _dataStream?.Dispose();
        _logStream = null;
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
        return mapper;
    }
}
