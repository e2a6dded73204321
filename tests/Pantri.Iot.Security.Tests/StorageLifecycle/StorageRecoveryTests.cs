using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>After a disk-full episode storage recovers by itself: commands get a quick 503 during the outage,
/// <c>/readyz</c> reports it (naming the failing check) while <c>/healthz</c> stays ok, and once the disk takes writes
/// again commands succeed within seconds — no restart. Before, LiteDB's engine stayed closed after the failed write and
/// every command answered 503 until a person restarted the process, while <c>/healthz</c> said ok.</summary>
[Category("Integration")]
public sealed class StorageRecoveryTests
{
    private static readonly TimeSpan QuickRefusal = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(5);
    private string _dir = null!;

    [SetUp]
    public void NewDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "pantri-recovery-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true); // a gateway disposed by the test deleted it already
        }
    }

    [Test]
    public async Task A_full_disk_inside_LiteDB_is_survived_without_a_restart()
    {
        var disk = new FullDisk();
        var path = Path.Combine(_dir, "pantri.db");
        await using var gateway = await TestGateway.StartAsync(
            ["--Pantri:CommandsPerSecond=1000", "--Pantri:CommandBurst=1000"],
            b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(_ => new LiteDbGatewayStore(path, disk.Open))),
            _dir);
        gateway.ExpectLoggedErrors(FullDisk.Failure);
        await using var jar = await gateway.ConnectJarAsync();
        using var http = gateway.Http();
        Assert.That((await http.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        disk.Full = true;
        var during = new List<Acknowledgement>();
        for (var i = 0; i < 3; i++)
        {
            during.Add(await TimedRequestAsync(jar, $$"""{"Instruction_Ref":987654321,"Level":11,"RequestId":"full-{{i}}"}"""));
        }

        var ready = await http.GetAsync("/readyz");
        var live = await http.GetAsync("/healthz");
        disk.Full = false;
        var healedAfter = await WaitForReadyAsync(http);
        var after = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":10,"RequestId":"after"}""");
        var retried = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":11,"RequestId":"full-0"}""");

        Assert.That(disk.FailedWrites, Is.Positive, "the failure happened inside LiteDB");
        Assert.That(during.Select(a => a.Id), Is.All.EqualTo(AckIds.Unavailable));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await FailingChecksAsync(ready), Is.EqualTo(new[] { "storage" }));
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the process is alive: no reason to kill it");
        Assert.That(healedAfter, Is.LessThan(RecoveryBound));
        Assert.That(after.Id, Is.EqualTo(AckIds.Recorded));
        Assert.That(retried.Id, Is.EqualTo(AckIds.Recorded), "the refused request is retried as new: nothing of it was recorded");
        Assert.That(retried.Replayed, Is.Null);
        Assert.That(gateway.Store.FindCommandByRef(after.CommandRef), Is.Not.Null);
        Assert.That(during.Select(a => gateway.Store.FindCommandByRef(a.CommandRef)), Is.All.Null);

        // The engine that failed was dropped at the reopen with its unfinished transaction; when the GC finalizes that
        // transaction, LiteDB's finalizer must not throw on the finalizer thread (which ends the process).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var later = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":9,"RequestId":"after-gc"}""");
        Assert.That(later.Id, Is.EqualTo(AckIds.Recorded), "the gateway is still alive and taking commands");
    }

    [Test]
    public async Task Commands_during_an_outage_get_503_quickly_readiness_names_storage_and_both_return_once_commits_work()
    {
        using var real = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"));
        var store = new FailingStore(real);
        await using var gateway = await TestGateway.StartAsync(configure: b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(store)), dataDirectory: _dir);
        gateway.ExpectLoggedErrors(FailingStore.Failure);
        await using var button = await gateway.ConnectButtonAsync();
        using var http = gateway.Http();

        store.FailCommits = true;
        var refused = await TimedRequestAsync(button, """{"Instruction_Ref":123456789,"RequestId":"o1"}""");
        var refusedAgain = await TimedRequestAsync(button, """{"Instruction_Ref":123456789,"RequestId":"o2"}""");
        var ready = await http.GetAsync("/readyz");
        var live = await http.GetAsync("/healthz");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a retry or two fail as well
        store.FailCommits = false;
        var healedAfter = await WaitForReadyAsync(http);
        var placed = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref":123456789,"RequestId":"o1"}""");

        Assert.That(refused.Id, Is.EqualTo(AckIds.Unavailable));
        Assert.That(refusedAgain.Id, Is.EqualTo(AckIds.Unavailable));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await FailingChecksAsync(ready), Is.EqualTo(new[] { "storage" }));
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(healedAfter, Is.LessThan(RecoveryBound));
        Assert.That(placed.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(real.FindOrders("demo", 10), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Readiness_is_ok_with_a_json_body_listing_every_check_and_liveness_too()
    {
        await using var gateway = await TestGateway.StartAsync(dataDirectory: _dir);
        using var http = gateway.Http();

        var ready = await http.GetAsync("/readyz");
        var live = await http.GetAsync("/healthz");
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());

        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.RootElement.GetProperty("Status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(body.RootElement.GetProperty("Checks").EnumerateArray().Select(c => c.GetProperty("Name").GetString()), Is.EquivalentTo(new[] { "storage", "writer", "broker" }));
    }

    [Test]
    public async Task A_commit_that_hangs_makes_readiness_report_the_writer_stalled_until_it_returns()
    {
        using var real = new LiteDbGatewayStore(Path.Combine(_dir, "pantri.db"));
        using var release = new ManualResetEventSlim();
        var store = new HangingStore(real, release);
        await using var gateway = await TestGateway.StartAsync(["--Pantri:WriterStallTimeout=00:00:01"], b => b.Services.Replace(ServiceDescriptor.Singleton<IGatewayStore>(store)), _dir);
        await using var button = await gateway.ConnectButtonAsync();
        using var http = gateway.Http();

        store.Hang = true;
        await button.PublishAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref":123456789,"RequestId":"h1"}""").WaitAsync(TimeSpan.FromMilliseconds(200)).ContinueWith(_ => { }, TaskScheduler.Default);
        HttpResponseMessage? stalled = null;
        for (var i = 0; i < 60 && stalled is null; i++)
        {
            var ready = await http.GetAsync("/readyz");
            stalled = ready.StatusCode == HttpStatusCode.ServiceUnavailable ? ready : null;
            await Task.Delay(50);
        }

        var live = await http.GetAsync("/healthz");
        store.Hang = false;
        release.Set();
        var ack = await button.NextAckAsync();
        var healedAfter = await WaitForReadyAsync(http);

        Assert.That(stalled, Is.Not.Null, "readiness failed while the commit hung");
        Assert.That(await FailingChecksAsync(stalled!), Is.EqualTo(new[] { "writer" }));
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a slow disk is no reason to kill the process");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), "the hung commit completed and was acknowledged");
        Assert.That(healedAfter, Is.LessThan(RecoveryBound));
    }

    private static async Task<Acknowledgement> TimedRequestAsync(TestDevice device, string payload)
    {
        var kind = payload.Contains("Level", StringComparison.Ordinal) ? DeviceTopicKind.Level : DeviceTopicKind.Trigger;
        var clock = Stopwatch.StartNew();
        var ack = await device.RequestAsync(kind, payload);
        Assert.That(clock.Elapsed, Is.LessThan(QuickRefusal), "a refusal during the outage is quick, not a hang");
        return ack;
    }

    private static async Task<TimeSpan> WaitForReadyAsync(HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < RecoveryBound + RecoveryBound)
        {
            if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                return clock.Elapsed;
            }

            await Task.Delay(50);
        }

        return clock.Elapsed;
    }

    private static async Task<string[]> FailingChecksAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("Checks").EnumerateArray()
            .Where(c => c.GetProperty("Status").GetString() != "Healthy")
            .Select(c => c.GetProperty("Name").GetString()!)
            .ToArray();
    }

    // A disk that stops answering: commits block until released, everything else goes to the real store.
    private sealed class HangingStore(IGatewayStore inner, ManualResetEventSlim release) : IGatewayStore
    {
        private volatile bool _hang;

        public bool Hang
        {
            get => _hang;
            set => _hang = value;
        }

        public void Commit(WriteBatch batch)
        {
            if (_hang)
            {
                release.Wait(TimeSpan.FromSeconds(30));
            }

            inner.Commit(batch);
        }

        public StoredState Load() => inner.Load();

        public GatewayMeta? LoadMeta() => inner.LoadMeta();

        public void Reopen() => inner.Reopen();

        public CommandRecord? FindCommandByKey(string idempotencyKey) => inner.FindCommandByKey(idempotencyKey);

        public CommandRecord? FindCommandBySequence(long sequence) => inner.FindCommandBySequence(sequence);

        public IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> RecentCommandKeys(DateTimeOffset since, int limit) => inner.RecentCommandKeys(since, limit);

        public Pantri.Iot.Domain.Order? FindOrder(long orderRef) => inner.FindOrder(orderRef);

        public IReadOnlyList<Pantri.Iot.Domain.Order> FindOrders(string accountId, int limit) => inner.FindOrders(accountId, limit);

        public IReadOnlyList<Pantri.Iot.Domain.Order> FindOrdersByRef(IReadOnlyCollection<long> orderRefs) => inner.FindOrdersByRef(orderRefs);

        public IReadOnlyList<OutboxEntry> PendingSubmissions(int limit) => inner.PendingSubmissions(limit);

        public IReadOnlyList<Pantri.Iot.Domain.Order> FindOrdersInState(Pantri.Iot.Domain.OrderState state, int limit) => inner.FindOrdersInState(state, limit);

        public IReadOnlyList<Pantri.Iot.Domain.Order> FindOrdersAwaitingCancel(int limit) => inner.FindOrdersAwaitingCancel(limit);

        public IReadOnlyList<Pantri.Iot.Gateway.Pipeline.AuditEntry> FindAudit(string accountId, int limit) => inner.FindAudit(accountId, limit);

        public void Backup(string directory) => inner.Backup(directory);

        public void Dispose()
        {
        }
    }
}
