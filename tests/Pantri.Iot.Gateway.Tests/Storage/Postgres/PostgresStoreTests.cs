using Npgsql;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Gateway.Storage.Postgres;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Storage.Postgres;

/// <summary>The gateway on PostgreSQL (<c>Pantri:Storage:Provider=PostgreSql</c>), against a real cluster started by
/// the test: the same contract as on LiteDB, and the invariants held by the database when two instances share it.</summary>
[Category("Integration")]
[NonParallelizable]
public sealed class PostgresStoreTests
{
    private PostgresServer _server = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await PostgresServer.StartAsync();

    [OneTimeTearDown]
    public void Stop() => _server.Dispose();

    public static string[] PostgresArgs(string connectionString) =>
    [
        "--Pantri:Storage:Provider=PostgreSql",
        $"--Pantri:Storage:ConnectionString={connectionString}",
    ];

    [Test]
    public async Task A_press_is_stored_in_PostgreSQL_and_replayed_after_a_restart()
    {
        var database = await _server.CreateDatabaseAsync();
        await using var gateway = await TestGateway.StartAsync(PostgresArgs(database));
        long commandRef;
        await using (var button = await gateway.ConnectButtonAsync())
        {
            var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId":"pg-1"}""");
            Assert.That(ack.Id, Is.EqualTo(201), ack.Status);
            commandRef = ack.CommandRef;
        }

        await gateway.RestartAsync();

        await using var again = await gateway.ConnectButtonAsync();
        var replay = await again.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId":"pg-1"}""");
        Assert.That(replay.CommandRef, Is.EqualTo(commandRef));
        Assert.That(replay.Id, Is.EqualTo(201));
        var second = await again.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId":"pg-2"}""");
        Assert.That(second.Id, Is.EqualTo(409), "the order placed before the restart is still open");
        Assert.That(await PostgresServer.ScalarAsync<long>(database, $"SELECT count(*) FROM pantri_orders WHERE instruction_ref = {DemoCredentials.ButtonRef}"), Is.EqualTo(1));
        Assert.That(await PostgresServer.ScalarAsync<long>(database, $"SELECT count(*) FROM pantri_commands WHERE command_ref = {commandRef}"), Is.EqualTo(1));
        Assert.That(await PostgresServer.ScalarAsync<int>(database, "SELECT max(version) FROM pantri_schema"), Is.EqualTo(PostgresSchema.Migrations.Count));
    }

    [Test]
    public async Task The_database_itself_refuses_a_second_open_order_for_an_instruction()
    {
        var database = await _server.CreateDatabaseAsync();
        await using (var gateway = await TestGateway.StartAsync(PostgresArgs(database)))
        {
            await using var button = await gateway.ConnectButtonAsync();
            Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId":"db-1"}""")).Id, Is.EqualTo(201));
        }

        // As a second writer that missed the first order would try it.
        var error = Assert.ThrowsAsync<PostgresException>(() => PostgresServer.ScalarAsync<long>(database,
            $"INSERT INTO pantri_orders (ref, instruction_ref, account_id, state, created_at, change_seq, doc) VALUES (1, {DemoCredentials.ButtonRef}, 'demo', 'Placed', now(), 0, '{{}}') RETURNING ref"));
        Assert.That(error!.ConstraintName, Is.EqualTo("pantri_orders_one_open_per_instruction"));
    }

    [Test]
    public async Task Two_instances_on_one_database_open_one_order_for_concurrent_presses_and_replay_each_others_requests()
    {
        var database = await _server.CreateDatabaseAsync();
        await using var first = await TestGateway.StartAsync(PostgresArgs(database));
        await using var second = await StartSecondInstanceAsync(first, database);
        await using var viaFirst = await first.ConnectButtonAsync();
        await using var viaSecond = await second.ConnectAsync(DemoCredentials.Button, first.Demo.ButtonKey);

        // 20 presses with distinct RequestIds, half through each instance, all at once.
        var presses = Enumerable.Range(0, 20).Select(async i =>
        {
            var device = i % 2 == 0 ? viaFirst : viaSecond;
            await device.PublishAsync(DeviceTopicKind.Trigger, $$"""{"RequestId":"race-{{i}}"}""");
        });
        await Task.WhenAll(presses);
        var acks = new List<Acknowledgement>();
        for (var i = 0; i < 10; i++)
        {
            acks.Add(await viaFirst.NextAckAsync());
            acks.Add(await viaSecond.NextAckAsync());
        }

        Assert.That(acks.Count(a => a.Id == 201), Is.EqualTo(1), string.Join(", ", acks.Select(a => a.Id)));
        Assert.That(acks.Count(a => a.Id == 409), Is.EqualTo(19), string.Join(", ", acks.Select(a => $"{a.Id} {a.Status}")));
        Assert.That(await PostgresServer.ScalarAsync<long>(database, $"SELECT count(*) FROM pantri_orders WHERE instruction_ref = {DemoCredentials.ButtonRef}"), Is.EqualTo(1));

        // A device that missed its ack resends through the other instance: the original ack, nothing new.
        var placed = acks.Single(a => a.Id == 201);
        var resentTo = placed.RequestId is { } id && int.Parse(id["race-".Length..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? viaSecond : viaFirst;
        var replay = await resentTo.RequestAsync(DeviceTopicKind.Trigger, $$"""{"RequestId":"{{placed.RequestId}}"}""");
        Assert.That(replay.CommandRef, Is.EqualTo(placed.CommandRef));
        Assert.That(replay.Id, Is.EqualTo(201));
        Assert.That(await PostgresServer.ScalarAsync<long>(database, "SELECT count(*) FROM pantri_commands WHERE idempotency_key LIKE '%race-%'"), Is.EqualTo(20), "one command per RequestId, the resend included");
    }

    [Test]
    public async Task Each_queued_submission_is_claimed_by_one_instance_until_its_lease_runs_out()
    {
        var database = await _server.CreateDatabaseAsync();
        using var a = new PostgresGatewayStore(database, TimeSpan.FromHours(24));
        using var b = new PostgresGatewayStore(database, TimeSpan.FromHours(24));
        a.Load();
        var batch = new WriteBatch();
        var now = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 30; i++)
        {
            batch.Orders[i] = new Order { Ref = i, InstructionRef = 1000 + i, AccountId = "acc", State = OrderState.Placed, Retailer = "shop", CreatedAt = now, UpdatedAt = now };
            batch.Outbox[i] = new OutboxEntry { OrderRef = i, Retailer = "shop", QueuedAt = now.AddMilliseconds(i) };
        }

        a.Commit(batch);
        Assert.That(b.FindOrdersByRef([3, 7, 999]).Select(o => o.Ref), Is.EquivalentTo(new long[] { 3, 7 }), "the dispatcher reads a round's orders at once");

        var claimedByA = a.ClaimSubmissions("a", 20, TimeSpan.FromSeconds(1));
        var claimedByB = b.ClaimSubmissions("b", 100, TimeSpan.FromMinutes(1));

        Assert.That(claimedByA.Select(e => e.OrderRef), Is.EqualTo(Enumerable.Range(1, 20).Select(i => (long)i)), "oldest first");
        Assert.That(claimedByB.Select(e => e.OrderRef), Is.EqualTo(Enumerable.Range(21, 10).Select(i => (long)i)), "only what A does not hold");
        Assert.That(b.ClaimSubmissions("b", 100, TimeSpan.FromMinutes(1)).Select(e => e.OrderRef), Is.EquivalentTo(claimedByB.Select(e => e.OrderRef)), "B renews its own, takes none of A's");

        // A died: after its lease, B takes its submissions over.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That(b.ClaimSubmissions("b", 100, TimeSpan.FromMinutes(1)), Has.Count.EqualTo(30));
    }

    /// <summary>A second gateway on the same database: its own data directory, the first one's User_Auth signing key
    /// (every instance must share it, or use an external issuer).</summary>
    public static async Task<TestGateway> StartSecondInstanceAsync(TestGateway first, string database, IEnumerable<string>? extraArgs = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.Copy(Path.Combine(first.DataDirectory, UserTokens.FileName), Path.Combine(directory, UserTokens.FileName));
        return await TestGateway.StartAsync([.. PostgresArgs(database), .. extraArgs ?? []], dataDirectory: directory);
    }
}
