using Microsoft.Extensions.Time.Testing;

namespace Pantri.Iot.Domain.Tests;

public sealed class ForecastCalculatorTests
{
    [Test]
    public void A_steady_series_gives_its_rate_and_the_hours_left()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var tracking = new Tracking { Level = 20, ReorderAt = 5 };

        // One tablet every 6 hours: 4 a day.
        foreach (var level in new double[] { 19, 18, 17, 16 })
        {
            InventoryRule.Apply(tracking, level, time.GetUtcNow());
            time.Advance(TimeSpan.FromHours(6));
        }

        var forecast = ForecastCalculator.Compute(tracking);

        Assert.That(forecast.State, Is.EqualTo("Known"));
        Assert.That(forecast.UsagePerDay, Is.EqualTo(4).Within(1e-9));
        Assert.That(forecast.HoursToReorder, Is.EqualTo((16 - 5) * 6.0).Within(1e-9));
        Assert.That(forecast.HoursToEmpty, Is.EqualTo(16 * 6.0).Within(1e-9));
    }

    [Test]
    public void Uneven_usage_is_averaged_over_the_window()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var tracking = new Tracking { Level = 100, ReorderAt = 10 };
        InventoryRule.Apply(tracking, 90, time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(2));
        InventoryRule.Apply(tracking, 80, time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(8));
        InventoryRule.Apply(tracking, 50, time.GetUtcNow());

        var forecast = ForecastCalculator.Compute(tracking);

        // 10 + 30 used over 10 hours after the first sample: 4 per hour.
        Assert.That(forecast.UsagePerDay, Is.EqualTo(96).Within(1e-9));
        Assert.That(forecast.HoursToReorder, Is.EqualTo(10).Within(1e-9));
        Assert.That(forecast.HoursToEmpty, Is.EqualTo(12.5).Within(1e-9));
    }

    [Test]
    public void The_forecast_is_unknown_until_there_is_enough_history()
    {
        var time = new FakeTimeProvider();
        var tracking = new Tracking { ReorderAt = 5 };
        Assert.That(ForecastCalculator.Compute(tracking).State, Is.EqualTo("Unknown"));

        InventoryRule.Apply(tracking, 12, time.GetUtcNow());
        InventoryRule.Apply(tracking, 11, time.GetUtcNow());
        InventoryRule.Apply(tracking, 10, time.GetUtcNow());
        var forecast = ForecastCalculator.Compute(tracking);

        Assert.That(forecast.State, Is.EqualTo("Unknown"));
        Assert.That(forecast.Reason, Is.Not.Empty);
    }

    [Test]
    public void A_level_at_the_trigger_point_has_zero_hours_to_reorder()
    {
        var time = new FakeTimeProvider();
        var tracking = new Tracking { Level = 8, ReorderAt = 5 };
        foreach (var level in new double[] { 7, 6, 5, 4 })
        {
            time.Advance(TimeSpan.FromHours(1));
            InventoryRule.Apply(tracking, level, time.GetUtcNow());
        }

        Assert.That(ForecastCalculator.Compute(tracking).HoursToReorder, Is.Zero);
    }
}
