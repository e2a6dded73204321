using LiteDB;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>LiteDB storage, one database per process, its files opened by the store (LiteDB's stream mode) so that
/// writes can be made durable. <see cref="Commit"/> appends the batch to the store's own <see cref="BatchJournal"/> and
/// flushes it to disk (fsync) before it returns — nothing is acknowledged that a power cut could take back — and hands
/// it to a second thread that writes it into LiteDB, merged with whatever else is waiting, in one transaction whose log
/// is flushed too; the journal's records are kept until LiteDB holds them on disk, and replayed into it at open
/// (docs/architecture.md, durability). Reads wait until LiteDB holds every batch committed before they began, so a
/// caller reads what it was acknowledged. After a failed write LiteDB may keep failing (an I/O error closes its engine
/// for good), so the writer calls <see cref="Reopen"/> to recover.</summary>
public sealed partial class LiteDbGatewayStore : IGatewayStore
{
    private static readonly BsonValue FirstTime = new(DateTimeOffset.MinValue.UtcTicks);
    private static readonly string[] OpenStates = [nameof(OrderState.AwaitingApproval), nameof(OrderState.Placed), nameof(OrderState.Submitted), nameof(OrderState.Confirmed), nameof(OrderState.Shipped)];
    private readonly string _path;
    private readonly string _logPath;
    private readonly Func<string, Stream> _openFile;
    private readonly BsonMapper _mapper = CreateMapper();
    private readonly CommandKeyIndex _keyIndex;

    // Reads come from any thread; LiteDB writes (the journal's thread) and Reopen take the write lock: Reopen swaps the
    // database, and a transaction is never read half-written.
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
        : this(path, openFile, new CommandKeyIndex())
    {
    }

    // keyIndex: with small chunks and slices in tests, to cross them.
    internal LiteDbGatewayStore(string path, Func<string, Stream>? openFile, CommandKeyIndex keyIndex)
    {
        ArgumentNullException.ThrowIfNull(path);
        _keyIndex = keyIndex;
        _path = path;
        _logPath = LogPathOf(path);
        _openFile = openFile ?? DurableFileStream.Open;
        try
        {
            Open();
        }
        catch
        {
            Close();
            throw;
        }

        StartApplying();
    }

    /// <summary>Closes the database and opens it again, as after a restart: LiteDB recovers its committed transactions
    /// from the log and drops the one that failed. Throws when the files cannot be opened (the store then stays closed
    /// until a later call succeeds). Called by the writer thread only.</summary>
    public void Reopen()
    {
        StopApplying();
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

        StartApplying();
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
    /// <remarks>Every batch committed is first in LiteDB (the read waits for it); a checkpoint then moves every committed
    /// page of the log into the data file, and both files are copied (the log is normally empty by then). Readers on
    /// other threads go on meanwhile; writes cannot: the writer thread is the one copying, and LiteDB's writer waits
    /// for the read lock held here. The copy has no journal: it holds everything.</remarks>
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
        return Read(() => _keyIndex.Find(_db, hash)
            .Select(sequence => _commands.FindById(sequence))
            .Where(c => c?.IdempotencyKey == idempotencyKey)
            .MaxBy(c => c!.At));
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
    public IReadOnlyList<Order> FindOrdersByRef(IReadOnlyCollection<long> orderRefs) =>
        Read<IReadOnlyList<Order>>(() => orderRefs.Select(r => _orders.FindById(r)).OfType<Order>().ToList());

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
        // A seek to the first time in the index (stored as ticks, which sort after null): "> null" seeks to the nulls and
        // then walks every one of them — an entry per order without a cancel, four times a second.
        Read<IReadOnlyList<Order>>(() => _orders.Find(Query.GTE(nameof(Order.CancelRequestedAt), FirstTime), limit: limit).ToList());

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // What is journaled goes into LiteDB first, so a clean stop leaves nothing to replay, and the keys not yet
        // indexed go too, so the next open reads none back.
        StopApplying();
        IndexRemainingKeys();
        EmptyJournal();
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
        WaitUntilApplied();
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
        _dataStream = _openFile(_path);
        _logStream = _openFile(_logPath);
        _db = new LiteDatabase(_dataStream, _mapper, _logStream);

        _devices = _db.GetCollection<Device>(LiteDbCollections.Devices);
        _instructions = _db.GetCollection<Instruction>(LiteDbCollections.Instructions);
        _orders = _db.GetCollection<Order>(LiteDbCollections.Orders);
        _households = _db.GetCollection<Household>(LiteDbCollections.Households);
        _users = _db.GetCollection<HouseholdUser>(LiteDbCollections.Users);
        _pairingCodes = _db.GetCollection<PairingCode>(LiteDbCollections.PairingCodes);
        _audit = _db.GetCollection<AuditEntry>(LiteDbCollections.Audit);
        _outbox = _db.GetCollection<OutboxEntry>(LiteDbCollections.Outbox);
        _commands = _db.GetCollection<CommandRecord>(LiteDbCollections.Commands);
        _meta = _db.GetCollection<GatewayMeta>(LiteDbCollections.Meta);
        _safeguards = _db.GetCollection<HouseholdSafeguards>(LiteDbCollections.Safeguards);
        // LiteDB would checkpoint inside whichever commit crosses 1,000 log pages; the journal's thread does it when
        // it has nothing waiting instead (CompactLog).
        _db.CheckpointSize = 0;
        _orders.EnsureIndex(o => o.State);
        _orders.EnsureIndex(o => o.AccountId);
        // The dispatcher looks for household cancels to forward every poll; almost every order has none.
        _orders.EnsureIndex(o => o.CancelRequestedAt);
        _audit.EnsureIndex(a => a.AccountId);
        // The dispatcher reads the outbox oldest first every poll; without the index that is a sort of the whole queue.
        _outbox.EnsureIndex(e => e.QueuedAt);
        _keyIndex.Open(_db);
        // Lets the writer load the idempotency window's keys at start instead of reading the key index per command.
        _commands.EnsureIndex(c => c.At);
        OpenJournal();
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

        _journal?.Dispose();
        _journal = null;
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
