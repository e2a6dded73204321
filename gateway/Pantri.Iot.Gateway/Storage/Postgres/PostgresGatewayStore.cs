using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage.Postgres;

/// <summary>PostgreSQL storage shared by any number of gateway instances. The invariants are the database's: one open
/// order per instruction (a unique partial index), one command per (device, RequestId) inside the idempotency window (a
/// unique index on the live key), and a batch's orders, outbox rows and commands in one transaction. Every commit
/// locks the one meta row and bumps its <c>change_seq</c>: that serialises the instances' commits and tells each
/// instance, at its next batch (<see cref="BeginBatch"/>), whether another one wrote; every row carries the change_seq of
/// the commit that wrote it, so the instance takes in just those rows and decides on the latest state.
/// The outbox is claimed row by row with <c>FOR UPDATE SKIP LOCKED</c> (<see cref="ClaimSubmissions"/>).</summary>
public sealed class PostgresGatewayStore : IGatewayStore, ISharedGatewayStore, IOutboxClaims
{
    private const string Unique = "23505";

    private static readonly string[] OpenStates = [nameof(OrderState.AwaitingApproval), nameof(OrderState.Placed), nameof(OrderState.Submitted), nameof(OrderState.Confirmed), nameof(OrderState.Shipped)];

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _idempotencyWindow;

    // Writer thread only: the batch lock's transaction, and what this instance last saw of the meta row.
    private NpgsqlConnection? _batchConnection;
    private NpgsqlTransaction? _batchTransaction;
    private long _lockedChangeSeq;
    private long _lockedReservedUpTo;
    private long _seenChangeSeq = -1;
    private long _seenReservedUpTo = -1;
    private long _lockedSetupSeq;
    private long _seenSetupSeq = -1;

    /// <summary>Connects and brings the schema up to date (throws when the database cannot be reached or migrated).</summary>
    public PostgresGatewayStore(string connectionString, TimeSpan idempotencyWindow)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _idempotencyWindow = idempotencyWindow;
        try
        {
            PostgresSchema.Migrate(_dataSource);
        }
        catch
        {
            _dataSource.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public StoredState Load()
    {
        using var connection = _dataSource.OpenConnection();
        // One snapshot: the meta row's change_seq and the rows read belong together.
        using var transaction = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        var (meta, changeSeq, setupSeq) = ReadMeta(connection, transaction) ?? (new GatewayMeta(), 0, 0);
        var devices = ReadDocs<Device>(connection, transaction, "SELECT doc FROM pantri_devices");
        var instructions = ReadDocs<Instruction>(connection, transaction, "SELECT doc FROM pantri_instructions");
        var open = ReadDocs<Order>(connection, transaction, "SELECT doc FROM pantri_orders WHERE state = ANY(@states)", p => p.AddWithValue("states", OpenStates));
        var safeguards = ReadDocs<HouseholdSafeguards>(connection, transaction, "SELECT doc FROM pantri_safeguards");
        var households = ReadDocs<Household>(connection, transaction, "SELECT doc FROM pantri_households");
        var users = ReadDocs<HouseholdUser>(connection, transaction, "SELECT doc FROM pantri_users");
        var codes = ReadDocs<PairingCode>(connection, transaction, "SELECT doc FROM pantri_pairing_codes");
        transaction.Commit();
        _seenChangeSeq = changeSeq;
        _seenReservedUpTo = meta.ReservedUpTo;
        _seenSetupSeq = setupSeq;
        return new StoredState(devices, instructions, open, meta, safeguards) { Households = households, Users = users, PairingCodes = codes };
    }

    /// <inheritdoc/>
    public GatewayMeta? LoadMeta()
    {
        using var connection = _dataSource.OpenConnection();
        var read = ReadMeta(connection, null);
        return read is { Meta.RefKey.Length: > 0 } ? read.Value.Meta : null;
    }

    /// <inheritdoc/>
    public SharedChanges? BeginBatch()
    {
        ReleaseBatch();
        _batchConnection = _dataSource.OpenConnection();
        try
        {
            _batchTransaction = _batchConnection.BeginTransaction();
            (_lockedChangeSeq, _lockedReservedUpTo, _lockedSetupSeq) = LockMeta(_batchConnection, _batchTransaction);
            if (_lockedChangeSeq == _seenChangeSeq)
            {
                return null;
            }

            // Under the lock nobody else commits: what changed since this instance last looked is exactly this.
            var changes = _lockedSetupSeq != _seenSetupSeq
                ? new SharedChanges([], [], [], [], _lockedReservedUpTo, SetupChanged: true)
                : ReadChanges(_batchConnection, _batchTransaction, _seenChangeSeq, _lockedReservedUpTo);
            _seenChangeSeq = _lockedChangeSeq;
            _seenReservedUpTo = _lockedReservedUpTo;
            return changes;
        }
        catch
        {
            ReleaseBatch();
            throw;
        }
    }

    private static SharedChanges ReadChanges(NpgsqlConnection connection, NpgsqlTransaction transaction, long since, long reservedUpTo)
    {
        void Since(NpgsqlParameterCollection p) => p.AddWithValue("since", since);
        var devices = ReadDocs<Device>(connection, transaction, "SELECT doc FROM pantri_devices WHERE change_seq > @since", Since);
        var instructions = ReadDocs<Instruction>(connection, transaction, "SELECT doc FROM pantri_instructions WHERE change_seq > @since", Since);
        var orders = ReadDocs<Order>(connection, transaction, "SELECT doc FROM pantri_orders WHERE change_seq > @since", Since);
        var keys = new List<(string, long, DateTimeOffset)>();
        using (var command = new NpgsqlCommand("SELECT idempotency_key, sequence, at FROM pantri_commands WHERE change_seq > @since AND idempotency_key IS NOT NULL ORDER BY at", connection, transaction))
        {
            Since(command.Parameters);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                keys.Add((reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }

        var safeguards = ReadDocs<HouseholdSafeguards>(connection, transaction, "SELECT doc FROM pantri_safeguards WHERE change_seq > @since", Since);
        return new SharedChanges(devices, instructions, orders, keys, reservedUpTo, safeguards);
    }

    /// <inheritdoc/>
    public void ReleaseBatch()
    {
        try
        {
            _batchTransaction?.Rollback();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection broke: the server rolled it back.
        }

        _batchTransaction?.Dispose();
        _batchConnection?.Dispose();
        _batchTransaction = null;
        _batchConnection = null;
    }

    /// <inheritdoc/>
    public void Commit(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
        {
            // Nothing to write; the batch lock, if held, is given back.
            if (_batchTransaction is not null)
            {
                ReleaseBatch();
            }

            return;
        }

        if (_batchTransaction is null)
        {
            _batchConnection = _dataSource.OpenConnection();
            _batchTransaction = _batchConnection.BeginTransaction();
            (_lockedChangeSeq, _lockedReservedUpTo, _lockedSetupSeq) = LockMeta(_batchConnection, _batchTransaction);
        }

        var connection = _batchConnection!;
        var transaction = _batchTransaction;
        try
        {
            var setup = batch.Households.Count > 0 || batch.Users.Count > 0 || batch.PairingCodes.Count > 0 || batch.InstructionsDeleted.Count > 0;
            var metaOnly = batch.Meta is not null && batch.Devices.Count == 0 && batch.Instructions.Count == 0 && batch.Orders.Count == 0
                && batch.Safeguards.Count == 0 && batch.Audit.Count == 0 && !setup && batch.Outbox.Count == 0 && batch.OutboxDone.Count == 0 && batch.Commands.Count == 0;
            if (metaOnly ? _lockedReservedUpTo != _seenReservedUpTo : _lockedChangeSeq != _seenChangeSeq)
            {
                throw new StoreConflictException("another gateway instance wrote since this one last read the state");
            }

            using var write = new NpgsqlBatch(connection, transaction);
            var nextSeq = _lockedChangeSeq + 1;
            AddWrites(write, batch, nextSeq);
            var setupSeq = setup ? ", setup_seq = setup_seq + 1" : string.Empty;
            var meta = new NpgsqlBatchCommand(batch.Meta is null
                ? $"UPDATE pantri_meta SET change_seq = @seq{setupSeq} WHERE id = 'meta'"
                : $"UPDATE pantri_meta SET change_seq = @seq{setupSeq}, reserved_up_to = @reserved, doc = @doc WHERE id = 'meta'");
            meta.Parameters.AddWithValue("seq", nextSeq);
            if (batch.Meta is { } m)
            {
                meta.Parameters.AddWithValue("reserved", m.ReservedUpTo);
                meta.Parameters.Add(Jsonb("doc", m));
            }

            write.BatchCommands.Add(meta);
            write.ExecuteNonQuery();
            transaction.Commit();

            // A reservation alone does not mean this instance saw what others wrote meanwhile.
            if (_lockedChangeSeq == _seenChangeSeq)
            {
                _seenChangeSeq = nextSeq;
                if (setup)
                {
                    _seenSetupSeq = _lockedSetupSeq + 1;
                }
            }

            if (batch.Meta is not null)
            {
                _seenReservedUpTo = batch.Meta.ReservedUpTo;
            }
        }
        catch (PostgresException ex) when (ex.SqlState == Unique)
        {
            throw new StoreConflictException($"the database refused the batch ({ex.ConstraintName}): another instance stored it first", ex);
        }
        finally
        {
            ReleaseBatch();
        }
    }

    /// <inheritdoc/>
    public void Reopen()
    {
        // Connections are pooled and re-established by Npgsql; a broken batch connection is dropped here.
        ReleaseBatch();
        NpgsqlConnection.ClearAllPools();
        using var connection = _dataSource.OpenConnection();
        using var probe = new NpgsqlCommand("SELECT 1", connection);
        probe.ExecuteScalar();
    }

    /// <inheritdoc/>
    public CommandRecord? FindCommandByKey(string idempotencyKey) =>
        ReadCommands("SELECT sequence, command_ref, idempotency_key, device_id, account_id, kind, at, ack FROM pantri_commands WHERE idempotency_key = @key ORDER BY at DESC LIMIT 1", p => p.AddWithValue("key", idempotencyKey)).FirstOrDefault();

    /// <inheritdoc/>
    public CommandRecord? FindCommandBySequence(long sequence) =>
        ReadCommands("SELECT sequence, command_ref, idempotency_key, device_id, account_id, kind, at, ack FROM pantri_commands WHERE sequence = @sequence", p => p.AddWithValue("sequence", sequence)).FirstOrDefault();

    /// <inheritdoc/>
    public IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand("SELECT idempotency_key, sequence, at FROM pantri_commands WHERE idempotency_key IS NOT NULL AND at >= @since ORDER BY at DESC LIMIT @limit", connection);
        command.Parameters.AddWithValue("since", since.ToUniversalTime());
        command.Parameters.AddWithValue("limit", limit);
        using var reader = command.ExecuteReader();
        var keys = new List<(string, long, DateTimeOffset)>();
        while (reader.Read())
        {
            keys.Add((reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return keys;
    }

    /// <inheritdoc/>
    public Order? FindOrder(long orderRef) => Query<Order>("SELECT doc FROM pantri_orders WHERE ref = @ref", p => p.AddWithValue("ref", orderRef)).FirstOrDefault();

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersByRef(IReadOnlyCollection<long> orderRefs) =>
        Query<Order>("SELECT doc FROM pantri_orders WHERE ref = ANY(@refs)", p => p.AddWithValue("refs", orderRefs.ToArray()));

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrders(string accountId, int limit) =>
        Query<Order>("SELECT doc FROM pantri_orders WHERE account_id = @account ORDER BY created_at DESC LIMIT @limit", p =>
        {
            p.AddWithValue("account", accountId);
            p.AddWithValue("limit", limit);
        });

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersInState(OrderState state, int limit) =>
        Query<Order>("SELECT doc FROM pantri_orders WHERE state = @state LIMIT @limit", p =>
        {
            p.AddWithValue("state", state.ToString());
            p.AddWithValue("limit", limit);
        });

    /// <inheritdoc/>
    /// <remarks>The data lives in PostgreSQL, not in the data directory: back it up with PostgreSQL's own tools
    /// (<c>pg_dump</c>, or base backups with WAL archiving), which are consistent while instances write.</remarks>
    public void Backup(string directory) =>
        throw new NotSupportedException("the PostgreSQL store is backed up with PostgreSQL's tools (pg_dump, base backups), not by the gateway");

    /// <inheritdoc/>
    public IReadOnlyList<AuditEntry> FindAudit(string accountId, int limit)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand("SELECT id, doc FROM pantri_audit WHERE account_id = @account ORDER BY id DESC LIMIT @limit", connection);
        command.Parameters.AddWithValue("account", accountId);
        command.Parameters.AddWithValue("limit", limit);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
        {
            var entry = JsonSerializer.Deserialize<AuditEntry>(reader.GetString(1), Json)!;
            entry.Id = reader.GetInt64(0);
            entries.Add(entry);
        }

        return entries;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Order> FindOrdersAwaitingCancel(int limit) =>
        Query<Order>("SELECT doc FROM pantri_orders WHERE doc->>'CancelRequestedAt' IS NOT NULL ORDER BY doc->>'CancelRequestedAt' LIMIT @limit", p => p.AddWithValue("limit", limit));

    /// <inheritdoc/>
    public IReadOnlyList<OutboxEntry> PendingSubmissions(int limit) =>
        ReadOutbox("SELECT order_ref, retailer, queued_at FROM pantri_outbox ORDER BY queued_at LIMIT @limit", p => p.AddWithValue("limit", limit));

    /// <inheritdoc/>
    public IReadOnlyList<OutboxEntry> ClaimSubmissions(string owner, int limit, TimeSpan lease) =>
        ReadOutbox(
            """
            UPDATE pantri_outbox o SET claimed_by = @owner, claimed_until = now() + @lease
            FROM (SELECT order_ref FROM pantri_outbox
                  WHERE claimed_until IS NULL OR claimed_until < now() OR claimed_by = @owner
                  ORDER BY queued_at LIMIT @limit
                  FOR UPDATE SKIP LOCKED) free
            WHERE o.order_ref = free.order_ref
            RETURNING o.order_ref, o.retailer, o.queued_at
            """,
            p =>
            {
                p.AddWithValue("owner", owner);
                p.AddWithValue("lease", lease);
                p.AddWithValue("limit", limit);
            }).OrderBy(e => e.QueuedAt).ToList();

    /// <inheritdoc/>
    public void Dispose()
    {
        ReleaseBatch();
        _dataSource.Dispose();
    }

    private void AddWrites(NpgsqlBatch write, WriteBatch batch, long changeSeq)
    {
        foreach (var device in batch.Devices.Values)
        {
            var command = new NpgsqlBatchCommand("INSERT INTO pantri_devices (device_id, account_id, change_seq, doc) VALUES (@id, @account, @seq, @doc) ON CONFLICT (device_id) DO UPDATE SET account_id = EXCLUDED.account_id, change_seq = EXCLUDED.change_seq, doc = EXCLUDED.doc");
            command.Parameters.AddWithValue("id", device.DeviceId);
            command.Parameters.AddWithValue("account", device.AccountId);
            command.Parameters.AddWithValue("seq", changeSeq);
            command.Parameters.Add(Jsonb("doc", device));
            write.BatchCommands.Add(command);
        }

        foreach (var instruction in batch.Instructions.Values)
        {
            var command = new NpgsqlBatchCommand("INSERT INTO pantri_instructions (ref, account_id, change_seq, doc) VALUES (@ref, @account, @seq, @doc) ON CONFLICT (ref) DO UPDATE SET account_id = EXCLUDED.account_id, change_seq = EXCLUDED.change_seq, doc = EXCLUDED.doc");
            command.Parameters.AddWithValue("ref", instruction.Ref);
            command.Parameters.AddWithValue("account", instruction.AccountId);
            command.Parameters.AddWithValue("seq", changeSeq);
            command.Parameters.Add(Jsonb("doc", instruction));
            write.BatchCommands.Add(command);
        }

        foreach (var reference in batch.InstructionsDeleted)
        {
            var command = new NpgsqlBatchCommand("DELETE FROM pantri_instructions WHERE ref = @ref");
            command.Parameters.AddWithValue("ref", reference);
            write.BatchCommands.Add(command);
        }

        foreach (var (accountId, household) in batch.Households)
        {
            write.BatchCommands.Add(household is null
                ? Delete("pantri_households", "account_id", accountId)
                : Upsert("pantri_households", "account_id", accountId, null, changeSeq, household));
        }

        foreach (var (key, user) in batch.Users)
        {
            write.BatchCommands.Add(user is null
                ? Delete("pantri_users", "key", key)
                : Upsert("pantri_users", "key", key, user.AccountId, changeSeq, user));
        }

        foreach (var (hash, code) in batch.PairingCodes)
        {
            write.BatchCommands.Add(code is null
                ? Delete("pantri_pairing_codes", "code_hash", hash)
                : Upsert("pantri_pairing_codes", "code_hash", hash, null, changeSeq, code));
        }

        foreach (var (accountId, safeguards) in batch.Safeguards)
        {
            write.BatchCommands.Add(Upsert("pantri_safeguards", "account_id", accountId, null, changeSeq, safeguards));
        }

        foreach (var entry in batch.Audit)
        {
            var command = new NpgsqlBatchCommand("INSERT INTO pantri_audit (account_id, doc) VALUES (@account, @doc)");
            command.Parameters.AddWithValue("account", entry.AccountId);
            command.Parameters.Add(Jsonb("doc", entry));
            write.BatchCommands.Add(command);
        }

        // Orders that closed first, so an instruction's new open order never meets its old one in the unique index.
        foreach (var order in batch.Orders.Values.OrderBy(o => o.IsOpen))
        {
            var command = new NpgsqlBatchCommand(
                "INSERT INTO pantri_orders (ref, instruction_ref, account_id, state, created_at, change_seq, doc) VALUES (@ref, @instruction, @account, @state, @created, @seq, @doc) " +
                "ON CONFLICT (ref) DO UPDATE SET state = EXCLUDED.state, change_seq = EXCLUDED.change_seq, doc = EXCLUDED.doc");
            command.Parameters.AddWithValue("ref", order.Ref);
            command.Parameters.AddWithValue("instruction", order.InstructionRef);
            command.Parameters.AddWithValue("account", order.AccountId);
            command.Parameters.AddWithValue("state", order.State.ToString());
            command.Parameters.AddWithValue("created", order.CreatedAt.ToUniversalTime());
            command.Parameters.AddWithValue("seq", changeSeq);
            command.Parameters.Add(Jsonb("doc", order));
            write.BatchCommands.Add(command);
        }

        foreach (var entry in batch.Outbox.Values)
        {
            var command = new NpgsqlBatchCommand("INSERT INTO pantri_outbox (order_ref, retailer, queued_at) VALUES (@ref, @retailer, @queued) ON CONFLICT (order_ref) DO NOTHING");
            command.Parameters.AddWithValue("ref", entry.OrderRef);
            command.Parameters.AddWithValue("retailer", entry.Retailer);
            command.Parameters.AddWithValue("queued", entry.QueuedAt.ToUniversalTime());
            write.BatchCommands.Add(command);
        }

        if (batch.OutboxDone.Count > 0)
        {
            var command = new NpgsqlBatchCommand("DELETE FROM pantri_outbox WHERE order_ref = ANY(@refs)");
            command.Parameters.AddWithValue("refs", batch.OutboxDone.ToArray());
            write.BatchCommands.Add(command);
        }

        if (batch.Commands.Count == 0)
        {
            return;
        }

        var keys = batch.Commands.Where(c => c.IdempotencyKey is not null).Select(c => c.IdempotencyKey!).ToArray();
        if (keys.Length > 0)
        {
            // A key older than the window is no longer live: the same RequestId is then a new command.
            var expire = new NpgsqlBatchCommand("UPDATE pantri_commands SET live_key = NULL WHERE live_key = ANY(@keys) AND at < @cutoff");
            expire.Parameters.AddWithValue("keys", keys);
            expire.Parameters.AddWithValue("cutoff", batch.Commands.Min(c => c.At).ToUniversalTime() - _idempotencyWindow);
            write.BatchCommands.Add(expire);
        }

        foreach (var record in batch.Commands)
        {
            var command = new NpgsqlBatchCommand(
                "INSERT INTO pantri_commands (sequence, command_ref, idempotency_key, live_key, device_id, account_id, kind, at, change_seq, ack) " +
                "VALUES (@sequence, @ref, @key, @key, @device, @account, @kind, @at, @seq, @ack)");
            command.Parameters.AddWithValue("sequence", record.Sequence);
            command.Parameters.AddWithValue("ref", record.CommandRef);
            command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)record.IdempotencyKey ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("device", NpgsqlDbType.Text) { Value = (object?)record.DeviceId ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("account", NpgsqlDbType.Text) { Value = (object?)record.AccountId ?? DBNull.Value });
            command.Parameters.AddWithValue("kind", record.Kind);
            command.Parameters.AddWithValue("at", record.At.ToUniversalTime());
            command.Parameters.AddWithValue("seq", changeSeq);
            command.Parameters.AddWithValue("ack", record.Ack);
            write.BatchCommands.Add(command);
        }
    }

    // Table and column names are this class's constants, never input.
    private static NpgsqlBatchCommand Upsert<T>(string table, string keyColumn, string key, string? accountId, long changeSeq, T doc)
    {
        var account = accountId is null ? string.Empty : ", account_id";
        var accountValue = accountId is null ? string.Empty : ", @account";
        var accountUpdate = accountId is null ? string.Empty : ", account_id = EXCLUDED.account_id";
        var command = new NpgsqlBatchCommand($"INSERT INTO {table} ({keyColumn}{account}, change_seq, doc) VALUES (@key{accountValue}, @seq, @doc) ON CONFLICT ({keyColumn}) DO UPDATE SET change_seq = EXCLUDED.change_seq, doc = EXCLUDED.doc{accountUpdate}");
        command.Parameters.AddWithValue("key", key);
        if (accountId is not null)
        {
            command.Parameters.AddWithValue("account", accountId);
        }

        command.Parameters.AddWithValue("seq", changeSeq);
        command.Parameters.Add(Jsonb("doc", doc));
        return command;
    }

    private static NpgsqlBatchCommand Delete(string table, string keyColumn, string key)
    {
        var command = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE {keyColumn} = @key");
        command.Parameters.AddWithValue("key", key);
        return command;
    }

    private static (long ChangeSeq, long ReservedUpTo, long SetupSeq) LockMeta(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        using var command = new NpgsqlCommand("SELECT change_seq, reserved_up_to, setup_seq FROM pantri_meta WHERE id = 'meta' FOR UPDATE", connection, transaction);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException("pantri_meta has no row: the schema was not migrated");
        }

        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private static (GatewayMeta Meta, long ChangeSeq, long SetupSeq)? ReadMeta(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        using var command = new NpgsqlCommand("SELECT doc, reserved_up_to, change_seq, setup_seq FROM pantri_meta WHERE id = 'meta'", connection, transaction);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var meta = JsonSerializer.Deserialize<GatewayMeta>(reader.GetString(0), Json) ?? new GatewayMeta();
        meta.Id = GatewayMeta.DocumentId;
        meta.ReservedUpTo = reader.GetInt64(1);
        return (meta, reader.GetInt64(2), reader.GetInt64(3));
    }

    private static List<T> ReadDocs<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Action<NpgsqlParameterCollection>? parameters = null)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        parameters?.Invoke(command.Parameters);
        using var reader = command.ExecuteReader();
        var docs = new List<T>();
        while (reader.Read())
        {
            docs.Add(JsonSerializer.Deserialize<T>(reader.GetString(0), Json)!);
        }

        return docs;
    }

    private List<T> Query<T>(string sql, Action<NpgsqlParameterCollection> parameters)
    {
        using var connection = _dataSource.OpenConnection();
        return ReadDocs<T>(connection, null, sql, parameters);
    }

    private List<CommandRecord> ReadCommands(string sql, Action<NpgsqlParameterCollection> parameters)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        parameters(command.Parameters);
        using var reader = command.ExecuteReader();
        var records = new List<CommandRecord>();
        while (reader.Read())
        {
            records.Add(new CommandRecord
            {
                Sequence = reader.GetInt64(0),
                CommandRef = reader.GetInt64(1),
                IdempotencyKey = reader.IsDBNull(2) ? null : reader.GetString(2),
                DeviceId = reader.IsDBNull(3) ? null : reader.GetString(3),
                AccountId = reader.IsDBNull(4) ? null : reader.GetString(4),
                Kind = reader.GetString(5),
                At = reader.GetFieldValue<DateTimeOffset>(6),
                Ack = reader.GetFieldValue<byte[]>(7),
            });
        }

        return records;
    }

    private List<OutboxEntry> ReadOutbox(string sql, Action<NpgsqlParameterCollection> parameters)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        parameters(command.Parameters);
        using var reader = command.ExecuteReader();
        var entries = new List<OutboxEntry>();
        while (reader.Read())
        {
            entries.Add(new OutboxEntry { OrderRef = reader.GetInt64(0), Retailer = reader.GetString(1), QueuedAt = reader.GetFieldValue<DateTimeOffset>(2) });
        }

        return entries;
    }

    private static NpgsqlParameter Jsonb<T>(string name, T value) =>
        new(name, NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(value, Json) };
}
