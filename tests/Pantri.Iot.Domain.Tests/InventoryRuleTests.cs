using Microsoft.Extensions.Time.Testing;

namespace Pantri.Iot.Domain.Tests;

public sealed class InventoryRuleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));

    [Test]
    public void Reaching_the_trigger_point_while_armed_asks_for_an_order()
    {
        var tracking = new Tracking { Level = 12, ReorderAt = 5 };

        Assert.That(Apply(tracking, 6).WantsOrder, Is.False);
        Assert.That(Apply(tracking, 5).WantsOrder, Is.True);
    }

    [Test]
    public void Jitter_around_the_trigger_point_asks_once()
    {
        var tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2 };
        var orders = 0;

        foreach (var level in new double[] { 8, 5, 4, 3, 6, 5, 4, 7, 5, 6, 4 })
        {
            if (Apply(tracking, level).WantsOrder)
            {
                orders++;
                InventoryRule.OrderPlaced(tracking);
            }
        }

        Assert.That(orders, Is.EqualTo(1));
        Assert.That(tracking.Armed, Is.False);
    }

    [Test]
    public void Only_a_rise_above_the_hysteresis_band_rearms()
    {
        var tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2 };
        Apply(tracking, 5);
        InventoryRule.OrderPlaced(tracking);

        Assert.That(Apply(tracking, 7).Rearmed, Is.False, "7 is inside the band (5 + 2)");
        var refill = Apply(tracking, 7.5);
        Assert.That(refill.Rearmed, Is.True);
        Assert.That(tracking.Armed, Is.True);
        Assert.That(Apply(tracking, 5).WantsOrder, Is.True, "after a refill the next low level orders again");
    }

    [Test]
    public void Debounce_needs_consecutive_low_readings()
    {
        var tracking = new Tracking { Level = 12, ReorderAt = 5, Debounce = 3 };

        Assert.That(Apply(tracking, 4).WantsOrder, Is.False);
        Assert.That(Apply(tracking, 4).WantsOrder, Is.False);
        Assert.That(Apply(tracking, 6).WantsOrder, Is.False, "a reading above the trigger point breaks the run");
        Assert.That(Apply(tracking, 4).WantsOrder, Is.False);
        Assert.That(Apply(tracking, 3).WantsOrder, Is.False);
        Assert.That(Apply(tracking, 3).WantsOrder, Is.True);
    }

    [Test]
    public void Falling_levels_become_usage_history_and_refills_do_not()
    {
        var tracking = new Tracking { Level = 12, ReorderAt = 5 };

        Apply(tracking, 10);
        Apply(tracking, 20);
        Apply(tracking, 19.5);

        Assert.That(tracking.History.Select(h => h.Used), Is.EqualTo(new[] { 2.0, 0.5 }));
    }

    private LevelDecision Apply(Tracking tracking, double level)
    {
        _time.Advance(TimeSpan.FromMinutes(10));
        return InventoryRule.Apply(tracking, level, _time.GetUtcNow());
    }
}
