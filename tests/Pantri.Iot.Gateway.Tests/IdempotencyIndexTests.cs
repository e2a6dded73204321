using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

/// <summary>The in-memory idempotency key index answers "new key" without storage only where it is sure; replays
/// still find the original ack, across a restart too.</summary>
public sealed class IdempotencyIndexTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void Nothing_is_covered_before_start()
    {
        var keys = new RecentCommandKeys(10);
        Assert.That(keys.Find("a", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown));
    }

    [Test]
    public void A_key_never_seen_inside_the_covered_span_is_new_and_a_seen_one_is_a_candidate()
    {
        var keys = new RecentCommandKeys(10);
        keys.Start(T0, [("old", 7, T0.AddMinutes(1))]);
        keys.Add("a", 42, T0.AddMinutes(2));

        Assert.That(keys.Find("b", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.None));
        Assert.That(keys.Find("a", T0, out var a), Is.EqualTo(RecentCommandKeys.Answer.Candidate));
        Assert.That(a, Is.EqualTo(42));
        Assert.That(keys.Find("old", T0, out var old), Is.EqualTo(RecentCommandKeys.Answer.Candidate));
        Assert.That(old, Is.EqualTo(7));
        Assert.That(keys.Find("a", T0.AddMinutes(3), out _), Is.EqualTo(RecentCommandKeys.Answer.None), "seen, but before the window");
        Assert.That(keys.Find("b", T0.AddMinutes(-1), out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown), "before the covered span");
    }

    [Test]
    public void Over_capacity_the_oldest_go_and_what_they_covered_falls_back_to_storage()
    {
        var keys = new RecentCommandKeys(2);
        keys.Start(T0, []);
        keys.Add("a", 1, T0.AddSeconds(1));
        keys.Add("b", 2, T0.AddSeconds(2));
        keys.Add("c", 3, T0.AddSeconds(3));

        Assert.That(keys.Count, Is.EqualTo(2));
        Assert.That(keys.Find("a", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown));
        Assert.That(keys.Find("x", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown));
        Assert.That(keys.Find("x", T0.AddSeconds(2), out _), Is.EqualTo(RecentCommandKeys.Answer.None));
        Assert.That(keys.Find("b", T0.AddSeconds(2), out var b), Is.EqualTo(RecentCommandKeys.Answer.Candidate));
        Assert.That(b, Is.EqualTo(2));
    }

    [Test]
    public void A_load_cut_at_capacity_covers_only_what_it_loaded()
    {
        var keys = new RecentCommandKeys(2);
        keys.Start(T0, [("c", 3, T0.AddSeconds(3)), ("b", 2, T0.AddSeconds(2))]);

        Assert.That(keys.Find("a", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown));
        Assert.That(keys.Find("a", T0.AddSeconds(2).AddTicks(1), out _), Is.EqualTo(RecentCommandKeys.Answer.None));
    }

    [Test]
    public void Trimming_old_entries_keeps_the_window_covered()
    {
        var keys = new RecentCommandKeys(10);
        keys.Start(T0, []);
        keys.Add("a", 1, T0.AddSeconds(1));
        keys.Add("b", 2, T0.AddSeconds(5));
        keys.Trim(T0.AddSeconds(4));

        Assert.That(keys.Count, Is.EqualTo(1));
        Assert.That(keys.Find("a", T0.AddSeconds(4), out _), Is.EqualTo(RecentCommandKeys.Answer.None));
        Assert.That(keys.Find("a", T0, out _), Is.EqualTo(RecentCommandKeys.Answer.Unknown));
    }

    [Test]
    [Category("Integration")]
    public void A_window_holding_more_keys_than_the_start_loads_is_answered_from_storage()
    {
        WithStore(25, (store, _) =>
        {
            var index = new IdempotencyIndex(store, TimeSpan.FromHours(24), startupKeyLimit: 10);
            var now = T0.AddHours(1);
            index.Load(now);

            Assert.That(index.Find("dev\nr1", now)?.Sequence, Is.EqualTo(1), "the oldest, not loaded, is found in storage");
            Assert.That(index.Find("dev\nr25", now)?.Sequence, Is.EqualTo(25), "the newest, loaded");
            Assert.That(index.Find("dev\nr26", now), Is.Null, "a new key is new");
        });
    }

    [Test]
    [Category("Integration")]
    public void The_key_log_of_a_clean_stop_covers_the_whole_window_at_the_next_start()
    {
        WithStore(25, (store, dir) =>
        {
            var now = T0.AddHours(1);
            var path = Path.Combine(dir, "keys.bin");
            var full = new IdempotencyIndex(store, TimeSpan.FromHours(24), logPath: path);
            full.Load(now);
            full.Dispose();

            using var next = new IdempotencyIndex(store, TimeSpan.FromHours(24), startupKeyLimit: 10, logPath: path);
            var restored = next.Load(now);

            Assert.That(restored, Is.EqualTo(25));
            Assert.That(next.CoveredSince, Is.EqualTo(full.CoveredSince).And.LessThanOrEqualTo(T0), "covered as the full load was, not from the 10th key");
            Assert.That(next.Find("dev\nr1", now)?.Sequence, Is.EqualTo(1));
            Assert.That(next.Find("dev\nr26", now), Is.Null);
        });
    }

    [Test]
    [Category("Integration")]
    public void Keys_committed_before_a_crash_are_in_the_key_log_at_the_next_start()
    {
        WithStore(25, (store, dir) =>
        {
            var now = T0.AddHours(1);
            var path = Path.Combine(dir, "keys.bin");
            using var crashed = new IdempotencyIndex(store, TimeSpan.FromHours(24), logPath: path);
            crashed.Load(now);
            var later = Keyed(26, 30);
            store.Commit(later);
            crashed.BeginBatch();
            crashed.Committed(later.Commands, now);

            // The process dies here: no clean stop, only what was appended.
            using var next = new IdempotencyIndex(store, TimeSpan.FromHours(24), startupKeyLimit: 10, logPath: path);
            var restored = next.Load(now);

            Assert.That(restored, Is.EqualTo(30), "every key, the ones committed after the start included");
            Assert.That(next.CoveredSince, Is.LessThanOrEqualTo(T0));
            Assert.That(next.Find("dev\nr28", now)?.Sequence, Is.EqualTo(28));
            Assert.That(next.Find("dev\nr1", now)?.Sequence, Is.EqualTo(1));
        });
    }

    [Test]
    [Category("Integration")]
    public void A_key_log_that_lacks_the_newest_stored_command_is_not_used()
    {
        WithStore(25, (store, dir) =>
        {
            var now = T0.AddHours(1);
            var path = Path.Combine(dir, "keys.bin");
            var full = new IdempotencyIndex(store, TimeSpan.FromHours(24), logPath: path);
            full.Load(now);
            full.Dispose();
            // Stored behind the log's back (its end lost in a power cut, or another copy of the data).
            store.Commit(Keyed(26, 26));

            using var next = new IdempotencyIndex(store, TimeSpan.FromHours(24), startupKeyLimit: 10, logPath: path);
            var restored = next.Load(now);

            Assert.That(restored, Is.Null);
            Assert.That(next.CoveredSince, Is.GreaterThan(T0.AddMinutes(16)), "the newest 10 were read instead");
            Assert.That(next.Find("dev\nr26", now)?.Sequence, Is.EqualTo(26), "the command the log lacked is a replay, not new");
        });
    }

    // Commands `from`..`to` with RequestIds r{i}, stored i minutes after T0.
    private static Gateway.Storage.WriteBatch Keyed(int from, int to)
    {
        var batch = new Gateway.Storage.WriteBatch();
        for (var i = from; i <= to; i++)
        {
            batch.Commands.Add(new Gateway.Storage.CommandRecord { Sequence = i, CommandRef = i, IdempotencyKey = $"dev\nr{i}", Kind = "level", At = T0.AddMinutes(i), Ack = [1] });
        }

        return batch;
    }

    private static void WithStore(int commands, Action<Gateway.Storage.LiteDbGatewayStore, string> test)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-window-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var store = new Gateway.Storage.LiteDbGatewayStore(Path.Combine(dir, "pantri.db"));
            store.Commit(Keyed(1, commands));
            test(store, dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    [Category("Integration")]
    public async Task A_request_id_used_before_a_restart_still_replays_after_it()
    {
        await using var gateway = await TestGateway.StartAsync();
        const string Press = """{"Instruction_Ref": 123456789, "RequestId": "before-restart"}""";
        Acknowledgement first;
        await using (var button = await gateway.ConnectButtonAsync())
        {
            first = await button.RequestAsync(DeviceTopicKind.Trigger, Press);
        }

        await gateway.RestartAsync();

        await using var again = await gateway.ConnectButtonAsync();
        var replay = await again.RequestAsync(DeviceTopicKind.Trigger, Press);
        var fresh = await again.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 123456789, "RequestId": "after-restart"}""");

        Assert.That(replay.Replayed, Is.True);
        Assert.That(replay.CommandRef, Is.EqualTo(first.CommandRef));
        Assert.That(fresh.Replayed, Is.Not.True);
        Assert.That(fresh.Id, Is.EqualTo(AckIds.Conflict), "a new key is decided, not replayed");
    }
}
