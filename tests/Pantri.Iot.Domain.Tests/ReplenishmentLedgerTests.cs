using Microsoft.Extensions.Time.Testing;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain.Tests;

public sealed class ReplenishmentLedgerTests
{
    private const long Jar = 987654321;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly Actor _jar = new("demo", "demo-jar", "level");
    private readonly Actor _scale = new("demo", "demo-scale", "level");
    private long _refs = 1000;
    private ReplenishmentLedger _ledger = null!;

    [SetUp]
    public void CreateLedger()
    {
        _ledger = new ReplenishmentLedger(
            [new Device { DeviceId = "demo-jar", AccountId = "demo" }, new Device { DeviceId = "demo-scale", AccountId = "demo" }],
            [new Instruction
            {
                Ref = Jar, AccountId = "demo", Product = "Cookies", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-jar", "demo-scale"],
                Tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2, UnitsPerPack = 12 },
            }],
            []);
    }

    [Test]
    public void The_jar_walk_through_orders_once_rearms_on_refill_and_orders_again_only_after_the_first_order_closes()
    {
        var walkDown = new[] { 11.0, 10, 9, 8, 7, 6 }.Select(Level).ToList();
        var atFive = Level(5);
        var jitter = new[] { 4.0, 3, 6, 5, 4 }.Select(Level).ToList();
        var refill = Level(20);
        var secondWalk = new[] { 10.0, 5 }.Select(Level).ToList();

        Assert.That(walkDown.Select(r => r.Id), Is.All.EqualTo(AckIds.Recorded));
        Assert.That(atFive.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(jitter.Select(r => r.Id), Is.All.EqualTo(AckIds.Recorded));
        Assert.That(jitter.Select(r => r.PlacedOrder), Is.All.Null);
        Assert.That(refill.Instruction!.Tracking!.Armed, Is.True);
        Assert.That(secondWalk[1].Id, Is.EqualTo(AckIds.Recorded));
        Assert.That(secondWalk[1].Note, Does.Contain(atFive.PlacedOrder!.Ref.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        _ledger.MoveOrder("demo", atFive.PlacedOrder.Ref, OrderState.Cancelled, "user", _time.GetUtcNow());
        var afterClose = Level(4);

        Assert.That(afterClose.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(afterClose.PlacedOrder!.Ref, Is.Not.EqualTo(atFive.PlacedOrder.Ref));
    }

    [Test]
    public void A_trigger_racing_a_low_reading_makes_one_order_whichever_comes_first()
    {
        var low = Level(5);
        var press = _ledger.Trigger(_jar with { Origin = "trigger" }, Jar, NextRef, NextRef(), Now());

        Assert.That(low.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(press.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(press.BlockingOrder, Is.SameAs(low.PlacedOrder));
    }

    [Test]
    public void A_press_first_disarms_the_rule_so_the_low_reading_does_not_order_again_even_after_delivery()
    {
        var press = _ledger.Trigger(_jar with { Origin = "trigger" }, Jar, NextRef, NextRef(), Now());
        _ledger.MoveOrder("demo", press.PlacedOrder!.Ref, OrderState.Cancelled, "user", Now());
        var low = Level(5);

        Assert.That(press.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(low.Id, Is.EqualTo(AckIds.Recorded), "the manual order already covered this low level");
    }

    [Test]
    public void Two_devices_reporting_the_same_instruction_low_make_one_order()
    {
        var fromJar = _ledger.ReportLevel(_jar, Jar, 5, NextRef, NextRef(), Now());
        var fromScale = _ledger.ReportLevel(_scale, Jar, 4, NextRef, NextRef(), Now());

        Assert.That(new[] { fromJar.Id, fromScale.Id }, Is.EqualTo(new[] { 201, 200 }));
    }

    [Test]
    public void Usage_before_any_level_is_a_conflict()
    {
        _ledger.Instructions[Jar].Tracking!.Level = null;

        var usage = _ledger.ReportUsage(_jar, Jar, 1, NextRef, NextRef(), Now());

        Assert.That(usage.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(usage.Reason, Does.Contain("level"));
    }

    [Test]
    public void Usage_subtracts_and_never_goes_below_zero()
    {
        var usage = _ledger.ReportUsage(_jar, Jar, 50, NextRef, NextRef(), Now());

        Assert.That(usage.Instruction!.Tracking!.Level, Is.Zero);
    }

    [Test]
    public void Delivery_raises_the_level_by_the_packs_ordered_and_rearms()
    {
        var order = Level(5).PlacedOrder!;
        _ledger.AdvanceOrder("shop", order.Ref, OrderState.Shipped, OrderSources.Retailer, null, Now());

        var delivered = _ledger.MoveOrder("demo", order.Ref, OrderState.Delivered, "user", Now());

        Assert.That(delivered.ChangedInstruction!.Tracking!.Level, Is.EqualTo(17));
        Assert.That(delivered.ChangedInstruction.Tracking.Armed, Is.True);
    }

    [Test]
    public void Closed_orders_cannot_move_and_lifecycle_order_is_enforced()
    {
        var order = Level(5).PlacedOrder!;

        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Submitted, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed));
        Assert.That(_ledger.MoveOrder("other", order.Ref, OrderState.Cancelled, "r", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotOpen));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Failed, OrderSources.Gateway, "gone", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(_ledger.MoveOrder("demo", order.Ref, OrderState.Cancelled, "r", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotOpen));
    }

    [Test]
    public void A_household_may_only_cancel_before_shipping_and_mark_received_once_confirmed_the_rest_is_the_retailers()
    {
        var order = Level(5).PlacedOrder!;

        foreach (var state in new[] { OrderState.Placed, OrderState.Submitted, OrderState.Confirmed, OrderState.Shipped, OrderState.Rejected, OrderState.Failed })
        {
            Assert.That(_ledger.MoveOrder("demo", order.Ref, state, "user", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotHousehold), state.ToString());
        }

        Assert.That(_ledger.MoveOrder("demo", order.Ref, OrderState.Delivered, "user", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed), "not before the retailer confirmed");
        _ledger.AdvanceOrder("shop", order.Ref, OrderState.Shipped, OrderSources.Retailer, null, Now());
        Assert.That(_ledger.MoveOrder("demo", order.Ref, OrderState.Cancelled, "user", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed), "not after it shipped");
        Assert.That(_ledger.MoveOrder("demo", order.Ref, OrderState.Delivered, "user", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(order.History[^1].Source, Is.EqualTo(OrderSources.Household));
    }

    [Test]
    public void A_cancel_before_the_dispatcher_sends_cancels_at_once_and_the_dispatcher_then_skips_the_order()
    {
        var order = Level(5).PlacedOrder!;

        var cancelled = _ledger.MoveOrder("demo", order.Ref, OrderState.Cancelled, "user", Now());
        var sending = _ledger.MarkSending("shop", [order.Ref], Now());

        Assert.That(cancelled.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(order.State, Is.EqualTo(OrderState.Cancelled));
        Assert.That(order.CancelRequestedAt, Is.Null, "nothing to forward");
        Assert.That(sending, Is.Empty);
    }

    [Test]
    public void A_cancel_after_the_dispatcher_sent_is_requested_the_order_stays_and_the_retailers_answer_decides()
    {
        var accepted = Level(5).PlacedOrder!;
        Assert.That(_ledger.MarkSending("shop", [accepted.Ref], Now()), Is.EqualTo(new[] { accepted }));
        Assert.That(_ledger.PendingChanges.OfType<OrderChanged>().Last().Publish, Is.False, "bookkeeping, not news");

        var at = Now();
        var requested = _ledger.MoveOrder("demo", accepted.Ref, OrderState.Cancelled, "user", at);
        var twice = _ledger.MoveOrder("demo", accepted.Ref, OrderState.Cancelled, "user", at.AddMinutes(1));
        var requestedAt = accepted.CancelRequestedAt;
        var answered = _ledger.AnswerCancel("shop", accepted.Ref, accepted: true, null, Now());

        Assert.That(requested.Outcome, Is.EqualTo(OrderMoveOutcome.CancelRequested));
        Assert.That(twice.Outcome, Is.EqualTo(OrderMoveOutcome.CancelRequested));
        Assert.That(requestedAt, Is.EqualTo(at), "the second request did not move the first");
        Assert.That(answered.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(accepted.State, Is.EqualTo(OrderState.Cancelled));
        Assert.That(accepted.History[^1].Source, Is.EqualTo(OrderSources.Retailer));
        Assert.That(accepted.CancelRequestedAt, Is.Null);

        Level(20);
        var refused = Level(4).PlacedOrder!;
        _ledger.AdvanceOrder("shop", refused.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now());
        _ledger.MoveOrder("demo", refused.Ref, OrderState.Cancelled, "user", Now());
        var refusal = _ledger.AnswerCancel("shop", refused.Ref, accepted: false, "already shipped", Now());

        Assert.That(refusal.Outcome, Is.EqualTo(OrderMoveOutcome.CancelRefused));
        Assert.That(refused.State, Is.EqualTo(OrderState.Confirmed), "the order stays as it is");
        Assert.That(refused.CancelRefusal, Is.EqualTo("already shipped"));
        Assert.That(refused.CancelRequestedAt, Is.Null);
        Assert.That(_ledger.AnswerCancel("shop", refused.Ref, accepted: true, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotOpen), "an answer to no request changes nothing");
    }

    [Test]
    public void A_retailer_walks_an_order_to_delivery_recording_source_and_reason_and_delivery_raises_the_level()
    {
        var order = Level(5).PlacedOrder!;

        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Submitted, OrderSources.Retailer, "accepted", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Shipped, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        var delivered = _ledger.AdvanceOrder("shop", order.Ref, OrderState.Delivered, OrderSources.Retailer, null, Now());

        Assert.That(delivered.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(delivered.ChangedInstruction!.Tracking!.Level, Is.EqualTo(17), "delivery reported by the retailer raises the level too");
        Assert.That(order.History.Select(h => (h.State, h.Source)), Is.EqualTo(new[]
        {
            (OrderState.Placed, OrderSources.Gateway), (OrderState.Submitted, OrderSources.Retailer),
            (OrderState.Shipped, OrderSources.Retailer), (OrderState.Delivered, OrderSources.Retailer),
        }));
        Assert.That(order.History[1].Reason, Is.EqualTo("accepted"));
        Assert.That(order.History[1].By, Is.EqualTo("shop"));
    }

    [Test]
    public void A_shipped_order_cannot_be_cancelled_or_rejected_and_another_retailer_cannot_move_an_order()
    {
        var order = Level(5).PlacedOrder!;

        Assert.That(_ledger.AdvanceOrder("other-shop", order.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotOpen));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Shipped, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(_ledger.MoveOrder("demo", order.Ref, OrderState.Cancelled, "user", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Rejected, OrderSources.Retailer, "no", Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed));
        Assert.That(_ledger.AdvanceOrder("shop", order.Ref, OrderState.Confirmed, OrderSources.Retailer, null, Now()).Outcome, Is.EqualTo(OrderMoveOutcome.NotAllowed), "never back");
        Assert.That(_ledger.OpenOrderFor(Jar), Is.SameAs(order), "a shipped order is still open: the 409 rule holds");
    }

    [Test]
    public void A_rejected_order_closes_with_the_retailers_reason_cut_to_its_limit_and_the_next_press_orders_again()
    {
        var order = _ledger.Trigger(_jar with { Origin = "trigger" }, Jar, NextRef, NextRef(), Now()).PlacedOrder!;

        var rejected = _ledger.AdvanceOrder("shop", order.Ref, OrderState.Rejected, OrderSources.Retailer, new string('x', 600), Now());
        var again = _ledger.Trigger(_jar with { Origin = "trigger" }, Jar, NextRef, NextRef(), Now());

        Assert.That(rejected.Outcome, Is.EqualTo(OrderMoveOutcome.Moved));
        Assert.That(order.History[^1].Reason, Has.Length.EqualTo(ReplenishmentLedger.MaxReasonLength));
        Assert.That(again.Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    private LedgerResult Level(double level) => _ledger.ReportLevel(_jar, Jar, level, NextRef, NextRef(), Now());

    private long NextRef() => ++_refs;

    private DateTimeOffset Now()
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        return _time.GetUtcNow();
    }
}
