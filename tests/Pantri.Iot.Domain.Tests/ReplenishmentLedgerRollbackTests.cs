using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain.Tests;

/// <summary>The undo journal: <see cref="ReplenishmentLedger.RollbackCommand"/> puts back everything changed since the
/// last <see cref="ReplenishmentLedger.AcceptChanges"/> — entities, their indexes, the pending changes — and nothing
/// accepted before.</summary>
public sealed class ReplenishmentLedgerRollbackTests
{
    private const long Jar = 987654321;
    private const long Button = 123456789;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly Actor _jar = new("demo", "demo-jar", "level");
    private readonly Actor _button = new("demo", "demo-button", "trigger");
    private long _refs = 1000;
    private ReplenishmentLedger _ledger = null!;

    [SetUp]
    public void CreateLedger()
    {
        _ledger = new ReplenishmentLedger(
            [new Device { DeviceId = "demo-jar", AccountId = "demo" }, new Device { DeviceId = "demo-button", AccountId = "demo" }],
            [
                new Instruction
                {
                    Ref = Jar, AccountId = "demo", Product = "Cookies", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-jar"],
                    Tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2, UnitsPerPack = 12 },
                },
                new Instruction { Ref = Button, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-button"] },
            ],
            []);
        // Some history, so that a rollback has a forecast window to restore.
        Level(11);
        Level(10);
        _ledger.AcceptChanges();
    }

    [Test]
    public void A_low_level_that_placed_an_order_is_undone_completely()
    {
        var before = Snapshot();

        var low = Level(3);
        _ledger.RollbackCommand();

        Assert.That(low.PlacedOrder, Is.Not.Null, "the command did place an order");
        Assert.That(Snapshot(), Is.EqualTo(before));
        Assert.That(_ledger.OpenOrderFor(Jar), Is.Null);
        Assert.That(_ledger.PendingChanges, Is.Empty);
        Assert.That(Level(3).Id, Is.EqualTo(AckIds.OrderPlaced), "the rule is armed again, as it was");
    }

    [Test]
    public void The_first_touch_is_what_comes_back_however_often_the_command_changed_an_entity()
    {
        var before = Snapshot();

        Level(9);
        Level(20);
        Level(4);
        _ledger.RollbackCommand();

        Assert.That(Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public void Changes_already_accepted_stay()
    {
        var placed = Level(4).PlacedOrder!;
        _ledger.AcceptChanges();
        var accepted = Snapshot();

        _ledger.MoveOrder("demo", placed.Ref, OrderState.Delivered, "user", Now());
        _ledger.RollbackCommand();

        Assert.That(Snapshot(), Is.EqualTo(accepted));
        Assert.That(_ledger.OpenOrderFor(Jar), Is.SameAs(placed), "the order is open again, in the same object");
        Assert.That(placed.State, Is.EqualTo(OrderState.Placed));
        Assert.That(placed.History, Has.Count.EqualTo(1));
    }

    [Test]
    public void New_devices_instructions_and_pairings_disappear_with_their_indexes()
    {
        var before = Snapshot();

        _ledger.CreateDevice("demo", "demo-scale", "hash", Now());
        var second = _ledger.CreateInstruction("demo", new InstructionSpec("Flour", "shop", 1, ["demo-jar", "demo-scale"], null), NextRef, Now());
        _ledger.Pair("demo", Button, "demo-jar");
        _ledger.ConfigureTracking("demo", Button, new TrackingSpec(2, "count", null, 0, 1, 8), Now());
        Assert.That(_ledger.Trigger(_jar, null, NextRef, NextRef(), Now()).Id, Is.EqualTo(AckIds.Malformed), "the jar had three instructions");
        _ledger.RollbackCommand();

        Assert.That(Snapshot(), Is.EqualTo(before));
        Assert.That(_ledger.Devices.ContainsKey("demo-scale"), Is.False);
        Assert.That(_ledger.Instructions.ContainsKey(second.Value!.Ref), Is.False);
        Assert.That(_ledger.Instructions[Button].Tracking, Is.Null);
        Assert.That(_ledger.Trigger(_jar with { Origin = "trigger" }, null, NextRef, NextRef(), Now()).Instruction?.Ref, Is.EqualTo(Jar),
            "the jar is paired with its one instruction again");
        Assert.That(_ledger.Trigger(_button, null, NextRef, NextRef(), Now()).Instruction?.Ref, Is.EqualTo(Button));
    }

    [Test]
    public void A_manual_order_on_a_tracked_instruction_is_undone_with_the_disarming()
    {
        var before = Snapshot();

        _ledger.Trigger(_jar with { Origin = "trigger" }, Jar, NextRef, NextRef(), Now());
        _ledger.RollbackCommand();

        Assert.That(Snapshot(), Is.EqualTo(before));
        Assert.That(_ledger.Instructions[Jar].Tracking!.Armed, Is.True);
    }

    [Test]
    public void Rolling_back_with_nothing_changed_changes_nothing_and_allocates_nothing()
    {
        var before = Snapshot();
        _ledger.RollbackCommand();
        _ledger.AcceptChanges();

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        _ledger.RollbackCommand();
        _ledger.AcceptChanges();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.That(Snapshot(), Is.EqualTo(before));
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void The_journal_reuses_its_snapshots_so_a_level_report_costs_no_more_after_warm_up()
    {
        // Warm up: the journal's snapshot of one instruction, and its history buffer, exist after the first command.
        for (var i = 0; i < 4; i++)
        {
            Level(20 - i);
            _ledger.AcceptChanges();
        }

        var withJournal = AllocatedByLevelReports(100);

        Assert.That(withJournal, Is.LessThan(100 * 1024), "level reports stay cheap with the journal on: " + withJournal + " bytes per 100");
    }

    private long AllocatedByLevelReports(int count)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < count; i++)
        {
            Level(i % 2 == 0 ? 15 : 14);
            _ledger.AcceptChanges();
        }

        return GC.GetAllocatedBytesForCurrentThread() - allocated;
    }

    private LedgerResult Level(double level) => _ledger.ReportLevel(_jar, Jar, level, NextRef, NextRef(), Now());

    private long NextRef() => ++_refs;

    private DateTimeOffset Now()
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        return _time.GetUtcNow();
    }

    // Everything a command can change, as text: entities field by field, and the open-order index.
    private string Snapshot() => JsonSerializer.Serialize(new
    {
        Devices = _ledger.Devices.Values.OrderBy(d => d.DeviceId, StringComparer.Ordinal),
        Instructions = _ledger.Instructions.Values.OrderBy(i => i.Ref),
        Open = _ledger.Instructions.Keys.Order().Select(r => _ledger.OpenOrderFor(r)),
    });
}
