using Npgsql;

namespace Pantri.Iot.Gateway.Storage.Postgres;

/// <summary>The schema, as numbered migrations applied in order at start, each in its own transaction, under an
/// advisory lock so that instances starting together apply each once. A migration is never edited once released:
/// a change is a new one. Entities are jsonb documents (so a property added to an entity needs no migration) plus
/// the columns the invariants and queries need.</summary>
public static class PostgresSchema
{
    // Any constant: the lock only serialises the migrations of instances starting at the same time.
    private const long MigrationLock = 0x70616e747269;

    /// <summary>The migrations, version = index + 1.</summary>
    public static IReadOnlyList<string> Migrations { get; } =
    [
        """
        CREATE TABLE pantri_meta (
            id text PRIMARY KEY,
            reserved_up_to bigint NOT NULL,
            -- Bumped by every commit: an instance that sees it move knows another instance wrote.
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        -- change_seq on every row: the commit that last wrote it, so an instance takes in only what others changed.
        CREATE TABLE pantri_devices (
            device_id text PRIMARY KEY,
            account_id text NOT NULL,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE INDEX pantri_devices_by_change ON pantri_devices (change_seq);
        CREATE TABLE pantri_instructions (
            ref bigint PRIMARY KEY,
            account_id text NOT NULL,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE INDEX pantri_instructions_by_change ON pantri_instructions (change_seq);
        CREATE TABLE pantri_orders (
            ref bigint PRIMARY KEY,
            instruction_ref bigint NOT NULL,
            account_id text NOT NULL,
            state text NOT NULL,
            created_at timestamptz NOT NULL,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE INDEX pantri_orders_by_change ON pantri_orders (change_seq);
        -- One open order per instruction, whichever instance placed it.
        CREATE UNIQUE INDEX pantri_orders_one_open_per_instruction ON pantri_orders (instruction_ref)
            WHERE state IN ('Placed', 'Submitted', 'Confirmed', 'Shipped');
        CREATE INDEX pantri_orders_by_account ON pantri_orders (account_id, created_at DESC);
        CREATE INDEX pantri_orders_by_state ON pantri_orders (state);
        CREATE TABLE pantri_outbox (
            order_ref bigint PRIMARY KEY REFERENCES pantri_orders (ref),
            retailer text NOT NULL,
            queued_at timestamptz NOT NULL,
            claimed_by text,
            claimed_until timestamptz);
        CREATE INDEX pantri_outbox_by_age ON pantri_outbox (queued_at);
        CREATE TABLE pantri_commands (
            sequence bigint PRIMARY KEY,
            command_ref bigint NOT NULL,
            -- "{actor}\n{RequestId}": the device (or app user) and its RequestId.
            idempotency_key text,
            -- The same key while inside the idempotency window, then cleared: one command per (device, RequestId)
            -- within the window, and a RequestId reused after it is a new command, as the contract says.
            live_key text,
            device_id text,
            account_id text,
            kind text NOT NULL,
            at timestamptz NOT NULL,
            change_seq bigint NOT NULL,
            ack bytea NOT NULL);
        CREATE INDEX pantri_commands_by_change ON pantri_commands (change_seq) WHERE idempotency_key IS NOT NULL;
        CREATE UNIQUE INDEX pantri_commands_one_per_request ON pantri_commands (live_key) WHERE live_key IS NOT NULL;
        CREATE INDEX pantri_commands_by_key ON pantri_commands (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX pantri_commands_by_time ON pantri_commands (at) WHERE idempotency_key IS NOT NULL;
        INSERT INTO pantri_meta (id, reserved_up_to, change_seq, doc) VALUES ('meta', 0, 0, '{}'::jsonb);
        """,
        """
        -- Households, users, pairing codes, safeguards and the audit log. Households, users, pairing codes and instruction deletions
        -- are rare setup changes: a commit that has one bumps setup_seq, and an instance that sees it move reloads its
        -- state instead of taking in rows (a deleted row leaves nothing to take in). Safeguards change with spending,
        -- so they are taken in row by row like orders.
        CREATE TABLE pantri_households (
            account_id text PRIMARY KEY,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE TABLE pantri_users (
            key text PRIMARY KEY,
            account_id text NOT NULL,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE TABLE pantri_pairing_codes (
            code_hash text PRIMARY KEY,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE TABLE pantri_safeguards (
            account_id text PRIMARY KEY,
            change_seq bigint NOT NULL,
            doc jsonb NOT NULL);
        CREATE INDEX pantri_safeguards_by_change ON pantri_safeguards (change_seq);
        -- Who changed what in a household's setup (GET /v1/audit), written with the change.
        CREATE TABLE pantri_audit (
            id bigserial PRIMARY KEY,
            account_id text NOT NULL,
            doc jsonb NOT NULL);
        CREATE INDEX pantri_audit_by_account ON pantri_audit (account_id, id DESC);
        ALTER TABLE pantri_meta ADD COLUMN setup_seq bigint NOT NULL DEFAULT 0;
        -- An order awaiting the household's approval is open too: still one open order per instruction.
        DROP INDEX pantri_orders_one_open_per_instruction;
        CREATE UNIQUE INDEX pantri_orders_one_open_per_instruction ON pantri_orders (instruction_ref)
            WHERE state IN ('AwaitingApproval', 'Placed', 'Submitted', 'Confirmed', 'Shipped');
        -- Household cancels still to forward to the retailer.
        CREATE INDEX pantri_orders_awaiting_cancel ON pantri_orders ((doc->>'CancelRequestedAt'))
            WHERE doc->>'CancelRequestedAt' IS NOT NULL;
        """,
    ];

    /// <summary>Applies the migrations the database lacks; returns the schema version now in force.</summary>
    public static int Migrate(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        using var connection = dataSource.OpenConnection();
        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLock);
            lockCommand.ExecuteNonQuery();
        }

        try
        {
            using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS pantri_schema (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", connection))
            {
                create.ExecuteNonQuery();
            }

            int current;
            using (var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM pantri_schema", connection))
            {
                current = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }

            if (current > Migrations.Count)
            {
                throw new InvalidOperationException($"the database's schema is version {current}, newer than this gateway's {Migrations.Count}: run a newer gateway");
            }

            for (var version = current + 1; version <= Migrations.Count; version++)
            {
                using var transaction = connection.BeginTransaction();
                using (var migrate = new NpgsqlCommand(Migrations[version - 1], connection, transaction))
                {
                    migrate.ExecuteNonQuery();
                }

                using (var record = new NpgsqlCommand("INSERT INTO pantri_schema (version) VALUES (@version)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", version);
                    record.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            return Migrations.Count;
        }
        finally
        {
            using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLock);
            unlock.ExecuteNonQuery();
        }
    }
}
