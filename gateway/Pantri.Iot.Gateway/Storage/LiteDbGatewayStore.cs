using LiteDB;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>LiteDB storage in direct mode, one database per process. Commits are synchronous and stay on the
/// calling thread (LiteDB transactions are thread-bound). LiteDB writes each commit to its log file without
/// fsync: a killed process keeps every commit, a power cut can lose the last ones.</summary>
public sealed class LiteDbGatewayStore : IGatewayStore
{
    private static readonly string[] OpenStates = [nameof(OrderState.Placed), nameof(OrderState.Submitted), nameof(OrderState.Confirmed)];
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<Device> _devices;
    private readonly ILiteCollection<Instruction> _instructions;
    private readonly ILiteCollection<Order> _orders;
    private readonly ILiteCollection<CommandRecord> _commands;
    private readonly ILiteCollection<GatewayMeta> _meta;
    private readonly string _logPath;

    /// <summary>Opens (or creates) the database file.</summary>
    public LiteDbGatewayStore(string path)
    {
        _db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct }, CreateMapper());
        _devices = _db.GetCollection<Device>("devices");
        _instructions = _db.GetCollection<Instruction>("instructions");
        _orders = _db.GetCollection<Order>("orders");
        _commands = _db.GetCollection<CommandRecord>("commands");
        _meta = _db.GetCollection<GatewayMeta>("meta");
        // LiteDB would checkpoint inside whichever commit crosses 1,000 log pages, stalling that batch's acks for
        // tens of milliseconds; CompactLog does it between batches instead.
        _db.CheckpointSize = 0;
        _logPath = LogPathOf(path);
        _orders.EnsureIndex(o => o.State);
        _orders.EnsureIndex(o => o.AccountId);
        _commands.EnsureIndex(c => c.KeyHash);
        // Lets the writer load the idempotency window's keys at start instead of reading the key index per command.
        _commands.EnsureIndex(c => c.At);
    }

    /// <summary>The write-ahead log LiteDB keeps next to the database file at <paramref name="path"/>
    /// (<c>pantri.db</c> → <c>pantri-log.db</c>).</summary>
    public static string LogPathOf(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    /// <inheritdoc/>
    public StoredState Load()
    {
        var meta = _meta.FindById(GatewayMeta.DocumentId) ?? new GatewayMeta();
        var open = _orders.Find(Query.In(nameof(Order.State), OpenStates.Select(s => new BsonValue(s)))).ToList();
        return new StoredState(_devices.FindAll().ToList(), _instructions.FindAll().ToList(), open, meta);
    }

    /// <inheritdoc/>
    public GatewayMeta? LoadMeta() => _meta.FindById(GatewayMeta.DocumentId);

    /// <inheritdoc/>
    public void Commit(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
        {
            return;
        }

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

            foreach (var order in batch.Orders.Values)
            {
                _orders.Upsert(order);
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
            _db.Rollback();
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
            _db.Checkpoint();
        }
    }

    /// <inheritdoc/>
    public CommandRecord? FindCommandByKey(string idempotencyKey)
    {
        var hash = IdempotencyKeyHash.Of(idempotencyKey);
        return _commands.Find(c => c.KeyHash == hash).Where(c => c.IdempotencyKey == idempotencyKey).MaxBy(c => c.At);
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit) =>
        _commands.Query()
            .Where(c => c.At >= since && c.IdempotencyKey != null)
            .OrderByDescending(c => c.At)
            .Limit(limit)
            .ToEnumerable()
            .Select(c => (c.IdempotencyKey!, c.Sequence, c.At))
            .ToList();

    /// <inheritdoc/>
    public CommandRecord? FindCommandBySequence(long sequence) => _commands.FindById(sequence);

    /// <inheritdoc/>
    public Order? FindOrder(long orderRef) => _orders.FindById(orderRef);

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrders(string accountId, int limit) =>
        _orders.Find(o => o.AccountId == accountId).OrderByDescending(o => o.CreatedAt).Take(limit).ToList();

    /// <inheritdoc/>
    public void Dispose() => _db.Dispose();

    private static BsonMapper CreateMapper()
    {
        // Strings are stored and compared exactly as given: LiteDB would otherwise trim them (and store "" as null) on
        // the way in — in queries too — so an id or idempotency key stored in one form would be looked up in another.
        var mapper = new BsonMapper { TrimWhitespace = false, EmptyStringToNull = false };
        // Ticks keep full precision and no time-zone conversion, unlike LiteDB's DateTime mapping.
        mapper.RegisterType(v => new BsonValue(v.UtcTicks), b => new DateTimeOffset(b.AsInt64, TimeSpan.Zero));
        mapper.Entity<Device>().Id(d => d.DeviceId, autoId: false);
        mapper.Entity<Instruction>().Id(i => i.Ref, autoId: false);
        mapper.Entity<Order>().Id(o => o.Ref, autoId: false).Ignore(o => o.IsOpen);
        mapper.Entity<CommandRecord>().Id(c => c.Sequence, autoId: false);
        mapper.Entity<GatewayMeta>().Id(m => m.Id, autoId: false);
        return mapper;
    }
}
