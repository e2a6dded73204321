using Microsoft.Extensions.Time.Testing;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain.Tests;

/// <summary>Household safeguards decided in the ledger: approval, pause, the monthly spend limit and the price guard.</summary>
public sealed class SafeguardTests
{
    private const long Tablets = 123456789;
    private const long Coffee = 222222222;
    private const long Jar = 987654321;
    private FakeTimeProvider _time = null!;
    private readonly Actor _app = new("demo", null, "app");
    private readonly Actor _jar = new("demo", "demo-jar", "level");
    private long _refs = 1000;
    private ReplenishmentLedger _ledger = null!;

    [SetUp]
    public void CreateLedger()
    {
        // One fixture instance runs every test: each starts from the same time.
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        _ledger = NewLedger();
    }

    private static ReplenishmentLedger NewLedger() => new(
        [new Device { DeviceId = "demo-jar", AccountId = "demo" }],
        [
            new Instruction { Ref = Tablets, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 2 },
            new Instruction { Ref = Coffee, AccountId = "demo", Product = "Coffee", Retailer = "shop", Quantity = 1 },
            new Instruction
            {
                Ref = Jar, AccountId = "demo", Product = "Cookies", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-jar"],
                Tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2, UnitsPerPack = 12 },
            },
        ],
        []);

    [Test]
    public void An_order_awaiting_approval_is_202_blocks_further_presses_and_goes_on_only_when_approved()
    {
        Configure(Tablets, new InstructionSafeguardsSpec(ApprovalRequired: true, null, null));

        var pressed = Trigger(Tablets);
        var again = Trigger(Tablets);
        var retailer = _ledger.AdvanceOrder("shop", pressed.PlacedOrder!.Ref, OrderState.Submitted, OrderSources.Retailer, null, Now());
        var approved = _ledger.Approve("demo", pressed.PlacedOrder.Ref, "user", Now());
        var approvedTwice = _ledger.Approve("demo", pressed.PlacedOrder.Ref, "user", Now());

        Assert.That(pressed.Id, Is.EqualTo(AckIds.AwaitingApproval));
        Assert.That(pressed.IsSuccess, Is.True, "a 202 is an accepted command");
        Assert.That(again.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(again.Reason, Does.Contain("awaitingapproval").And.Contain(pressed.PlacedOrder.Ref.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(retailer.Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed), "a retailer never sees or moves an unapproved order");
        Assert.That(approved.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(pressed.PlacedOrder.State, Is.EqualTo(OrderState.Placed));
        Assert.That(approvedTwice.Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed));
    }

    [Test]
    public void The_household_default_applies_unless_the_instruction_overrides_it_and_decline_and_expiry_cancel()
    {
        ConfigureHousehold(new HouseholdSafeguardsSpec(ApprovalRequired: true, null, null, null));
        Configure(Coffee, new InstructionSafeguardsSpec(ApprovalRequired: false, null, null));

        var declined = Trigger(Tablets).PlacedOrder!;
        var coffee = Trigger(Coffee);
        _ledger.Decline("demo", declined.Ref, "user", Now());
        var expiring = Trigger(Tablets).PlacedOrder!;
        var early = _ledger.ExpireApprovals(TimeSpan.FromHours(1), Now(), 10);
        _time.Advance(TimeSpan.FromHours(1));
        var expired = _ledger.ExpireApprovals(TimeSpan.FromHours(1), Now(), 10);

        Assert.That(coffee.Id, Is.EqualTo(AckIds.OrderPlaced), "the instruction said no approval");
        Assert.That(declined.State, Is.EqualTo(OrderState.Cancelled));
        Assert.That(declined.History[^1].Reason, Is.EqualTo("declined by the household"));
        Assert.That(early, Is.Zero);
        Assert.That(expired, Is.EqualTo(1));
        Assert.That(expiring.State, Is.EqualTo(OrderState.Cancelled));
        Assert.That(expiring.History[^1].Reason, Is.EqualTo("approval expired"));
        Assert.That(expiring.History[^1].Source, Is.EqualTo(OrderSources.Gateway));
    }

    [Test]
    public void A_pause_answers_423_orders_nothing_and_keeps_recording_levels_with_the_rule_armed()
    {
        var until = Now().AddDays(7);
        ConfigureHousehold(new HouseholdSafeguardsSpec(false, until, null, null));

        var press = Trigger(Tablets);
        var low = _ledger.ReportLevel(_jar, Jar, 3, NextRef, NextRef(), Now());
        var level = _ledger.Instructions[Jar].Tracking!.Level;
        _time.Advance(TimeSpan.FromDays(7));
        var after = _ledger.ReportLevel(_jar, Jar, 2, NextRef, NextRef(), Now());

        Assert.That(press.Id, Is.EqualTo(AckIds.Paused));
        Assert.That(press.Reason, Is.EqualTo("paused until 2026-12-05T08:00:00Z"));
        Assert.That(low.Id, Is.EqualTo(AckIds.Paused));
        Assert.That(low.PlacedOrder, Is.Null);
        Assert.That(level, Is.EqualTo(3), "the level was recorded");
        Assert.That(after.Id, Is.EqualTo(AckIds.OrderPlaced), "still armed: the first low reading after the pause orders");
    }

    [Test]
    public void The_order_that_would_cross_the_monthly_limit_is_422_and_the_next_month_starts_from_nothing()
    {
        ConfigureHousehold(new HouseholdSafeguardsSpec(false, null, 10m, "EUR"));
        Configure(Tablets, new InstructionSafeguardsSpec(null, null, MaxUnitPrice: 2.60m));
        Configure(Coffee, new InstructionSafeguardsSpec(null, null, MaxUnitPrice: 4.90m));

        var tablets = Trigger(Tablets);
        var coffee = Trigger(Coffee);
        _ledger.MoveOrder("demo", tablets.PlacedOrder!.Ref, OrderState.Cancelled, "user", Now());
        var coffeeAgain = Trigger(Coffee);
        _ledger.AdvanceOrder("shop", coffeeAgain.PlacedOrder!.Ref, OrderState.Delivered, OrderSources.Retailer, null, Now());
        var spent = ReplenishmentLedger.SpentIn(_ledger.SafeguardsOf("demo")!, Now());
        _time.Advance(TimeSpan.FromDays(4));
        var december = Trigger(Tablets);

        Assert.That(tablets.Id, Is.EqualTo(AckIds.OrderPlaced), "2 x 2.60 = 5.20 of 10.00");
        Assert.That(coffee.Id, Is.EqualTo(AckIds.SpendLimitReached), "5.20 + 4.90 = 10.10 would cross 10.00");
        Assert.That(coffee.PlacedOrder, Is.Null);
        Assert.That(coffee.Reason, Is.EqualTo("monthly spend limit of 10.00 EUR reached (5.20 spent)"));
        Assert.That(coffeeAgain.Id, Is.EqualTo(AckIds.OrderPlaced), "the cancelled order gave its 5.20 back");
        Assert.That(spent, Is.EqualTo(4.90m), "a delivered order stays counted, a cancelled one does not");
        Assert.That(december.Id, Is.EqualTo(AckIds.OrderPlaced), "a new calendar month (UTC) starts from nothing");
        Assert.That(ReplenishmentLedger.SpentIn(_ledger.SafeguardsOf("demo")!, Now()), Is.EqualTo(5.20m));
    }

    [Test]
    public void A_confirmed_price_above_the_guard_asks_for_a_cancel_and_the_order_counts_at_its_price()
    {
        ConfigureHousehold(new HouseholdSafeguardsSpec(false, null, 100m, "EUR"));
        Configure(Tablets, new InstructionSafeguardsSpec(null, null, MaxUnitPrice: 4.00m));
        Configure(Coffee, new InstructionSafeguardsSpec(null, null, MaxUnitPrice: 4.00m));
        var tablets = Trigger(Tablets).PlacedOrder!;
        var coffee = Trigger(Coffee).PlacedOrder!;

        _ledger.AdvanceOrder("shop", tablets.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now(), 5.25m, "EUR");
        _ledger.AdvanceOrder("shop", coffee.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now(), 3.99m, "EUR");

        Assert.That(tablets.State, Is.EqualTo(OrderState.Confirmed));
        Assert.That(tablets.CancelRequestedAt, Is.Not.Null, "the gateway cancels it at the retailer");
        Assert.That(tablets.CancelReason, Is.EqualTo("price guard: the retailer quoted 5.25 EUR per unit, above the limit of 4.00 EUR"));
        Assert.That(tablets.History[^1].Reason, Does.StartWith("price guard"));
        Assert.That(coffee.CancelRequestedAt, Is.Null);
        Assert.That(ReplenishmentLedger.SpentIn(_ledger.SafeguardsOf("demo")!, Now()), Is.EqualTo(10.50m + 3.99m));

        var cancelled = _ledger.AnswerCancel("shop", tablets.Ref, accepted: true, null, Now());
        Assert.That(cancelled.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(tablets.History[^1].Reason, Does.StartWith("price guard"));
        Assert.That(ReplenishmentLedger.SpentIn(_ledger.SafeguardsOf("demo")!, Now()), Is.EqualTo(3.99m));
    }

    [Test]
    public void A_definite_rejection_falls_back_in_order_and_the_last_rejection_or_a_requested_cancel_ends_the_order()
    {
        Assert.That(_ledger.ConfigureFallbacks("demo", Tablets, [new RetailerChoice { Retailer = "shop-b", Product = "B1" }, new RetailerChoice { Retailer = "shop-c", Product = "C1" }]).IsSuccess, Is.True);
        var order = Trigger(Tablets).PlacedOrder!;

        var toB = _ledger.AdvanceOrder("shop", order.Ref, OrderState.Rejected, OrderSources.Retailer, "out of stock", Now());
        var lateFromA = _ledger.AdvanceOrder("shop", order.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now());
        _ledger.AdvanceOrder("shop-b", order.Ref, OrderState.Submitted, OrderSources.Retailer, null, Now());
        _ledger.AdvanceOrder("shop-b", order.Ref, OrderState.Rejected, OrderSources.Retailer, "not deliverable", Now());
        var atC = (order.Retailer, order.Product, order.RetailerIndex, order.State);
        _ledger.AdvanceOrder("shop-c", order.Ref, OrderState.Rejected, OrderSources.Retailer, "no", Now());

        Assert.That(toB.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(lateFromA.Outcome, Is.EqualTo(OrderMoveOutcome.NotOpen), "the retailer that rejected it no longer moves it");
        Assert.That(atC, Is.EqualTo(("shop-c", "C1", 2, OrderState.Placed)));
        Assert.That(order.State, Is.EqualTo(OrderState.Rejected), "no retailer left");

        var cancelled = Trigger(Tablets).PlacedOrder!;
        _ledger.MarkSending("shop", [cancelled.Ref], Now());
        _ledger.AdvanceOrder("shop", cancelled.Ref, OrderState.Submitted, OrderSources.Retailer, null, Now());
        _ledger.MoveOrder("demo", cancelled.Ref, OrderState.Cancelled, "user", Now());
        _ledger.AdvanceOrder("shop", cancelled.Ref, OrderState.Rejected, OrderSources.Retailer, "out of stock", Now());
        Assert.That(cancelled.State, Is.EqualTo(OrderState.Rejected), "the household wanted it cancelled: no fallback");
        Assert.That(cancelled.Retailer, Is.EqualTo("shop"));
    }

    [TestCase(-1, null, "MonthlySpendLimit")]
    [TestCase(1.234, null, "MonthlySpendLimit")]
    [TestCase(1000001, null, "MonthlySpendLimit")]
    [TestCase(10, "eur", "Currency")]
    [TestCase(10, "EURO", "Currency")]
    public void Invalid_household_safeguards_are_refused_naming_the_field(double limit, string? currency, string field)
    {
        var outcome = _ledger.ConfigureSafeguards("demo", new HouseholdSafeguardsSpec(false, null, (decimal)limit, currency), Now());

        Assert.That(outcome.Status, Is.EqualTo(AckIds.Malformed));
        Assert.That(outcome.Field, Is.EqualTo(field));
        Assert.That(_ledger.SafeguardsOf("demo"), Is.Null);
    }

    [Test]
    public void A_pause_more_than_a_year_ahead_and_a_negative_price_guard_are_refused()
    {
        var pause = _ledger.ConfigureInstructionSafeguards("demo", Tablets, new InstructionSafeguardsSpec(null, Now().AddDays(400), null), Now());
        var price = _ledger.ConfigureInstructionSafeguards("demo", Tablets, new InstructionSafeguardsSpec(null, null, -0.01m), Now());
        var other = _ledger.ConfigureInstructionSafeguards("other", Tablets, new InstructionSafeguardsSpec(null, null, 1m), Now());

        Assert.That(pause.Field, Is.EqualTo("PausedUntil"));
        Assert.That(price.Field, Is.EqualTo("MaxUnitPrice"));
        Assert.That(other.Status, Is.EqualTo(AckIds.UnknownInstruction), "another household's instruction is unknown");
    }

    private LedgerResult Trigger(long instructionRef) => _ledger.Trigger(_app, instructionRef, NextRef, NextRef(), Now());

    private void Configure(long instructionRef, InstructionSafeguardsSpec spec) =>
        Assert.That(_ledger.ConfigureInstructionSafeguards("demo", instructionRef, spec, Now()).IsSuccess, Is.True);

    private void ConfigureHousehold(HouseholdSafeguardsSpec spec) =>
        Assert.That(_ledger.ConfigureSafeguards("demo", spec, Now()).IsSuccess, Is.True);

    private DateTimeOffset Now() => _time.GetUtcNow();

    private long NextRef() => ++_refs;
}
