using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain.Tests;

/// <summary><see cref="ReplenishmentLedger.Refresh"/>: entities another gateway instance stored (a shared database)
/// replace this ledger's copies, so its next decision is the one the latest state gives.</summary>
public sealed class ReplenishmentLedgerRefreshTests
{
    private const long Button = 123456789;
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly Actor _button = new("demo", "demo-button", "trigger");
    private long _refs = 1000;
    private ReplenishmentLedger _ledger = null!;

    [SetUp]
    public void CreateLedger() => _ledger = new ReplenishmentLedger(
        [new Device { DeviceId = "demo-button", AccountId = "demo" }],
        [new Instruction { Ref = Button, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-button"] }],
        []);

    [Test]
    public void An_order_opened_elsewhere_makes_a_press_here_409_and_its_closing_elsewhere_frees_the_instruction()
    {
        var elsewhere = new Order { Ref = 77, InstructionRef = Button, AccountId = "demo", State = OrderState.Placed, Retailer = "shop", CreatedAt = Now };

        _ledger.Refresh([], [], [elsewhere]);
        var refused = Press();

        Assert.That(refused.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(_ledger.OpenOrderFor(Button)?.Ref, Is.EqualTo(77));

        _ledger.Refresh([], [], [new Order { Ref = 77, InstructionRef = Button, AccountId = "demo", State = OrderState.Delivered, Retailer = "shop", CreatedAt = Now }]);

        Assert.That(_ledger.OpenOrderFor(Button), Is.Null);
        Assert.That(Press().Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    [Test]
    public void A_device_created_and_paired_elsewhere_can_press_here_and_an_unpairing_elsewhere_stops_it()
    {
        var jar = new Device { DeviceId = "new-jar", AccountId = "demo" };
        var paired = new Instruction { Ref = Button, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-button", "new-jar"] };
        var actor = new Actor("demo", "new-jar", "trigger");

        Assert.That(_ledger.Trigger(actor, Button, NextRef, NextRef(), Now).Id, Is.Not.EqualTo(AckIds.OrderPlaced), "unknown here before the refresh");
        _ledger.RollbackCommand();

        _ledger.Refresh([jar], [paired], []);
        Assert.That(_ledger.Trigger(actor, null, NextRef, NextRef(), Now).Id, Is.EqualTo(AckIds.OrderPlaced), "its only paired instruction");
        _ledger.AcceptChanges();

        var closed = _ledger.OpenOrderFor(Button)!;
        closed.State = OrderState.Cancelled;
        var unpaired = new Instruction { Ref = Button, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-button"] };
        _ledger.Refresh([], [unpaired], [closed]);

        Assert.That(_ledger.Trigger(actor, Button, NextRef, NextRef(), Now).Id, Is.EqualTo(AckIds.NotPaired));
    }

    private LedgerResult Press() => _ledger.Trigger(_button, Button, NextRef, NextRef(), Now);

    private long NextRef() => ++_refs;
}
