using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Turns a usage history into the expected time until the trigger point and until empty, assuming the
/// average rate of consumption over the history window continues.</summary>
public static class ForecastCalculator
{
    /// <summary>Usage samples needed before a forecast is given.</summary>
    public const int MinimumSamples = 3;

    /// <summary>Shortest history window that gives a forecast; bursts of reports seconds apart say nothing about days.</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromMinutes(1);

    /// <summary>Computes the forecast for <paramref name="tracking"/>.</summary>
    public static Forecast Compute(Tracking tracking)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        if (tracking.Level is not { } level)
        {
            return Forecast.Unknown("no level reported yet");
        }

        var history = tracking.History;
        if (history.Count < MinimumSamples)
        {
            return Forecast.Unknown($"needs {MinimumSamples} usage reports, has {history.Count}");
        }

        var window = history[^1].At - history[0].At;
        if (window < MinimumWindow)
        {
            return Forecast.Unknown("usage history spans less than a minute");
        }

        // The first sample opens the window; what was used inside it is everything after.
        double used = 0;
        for (var i = 1; i < history.Count; i++)
        {
            used += history[i].Used;
        }

        var perHour = used / window.TotalHours;
        if (perHour <= 0)
        {
            return Forecast.Unknown("no consumption in the history");
        }

        return new Forecast
        {
            State = ForecastStates.Known,
            UsagePerDay = Math.Round(perHour * 24, 3),
            HoursToReorder = Math.Round(Math.Max(0, level - tracking.ReorderAt) / perHour, 2),
            HoursToEmpty = Math.Round(Math.Max(0, level) / perHour, 2),
        };
    }
}
