namespace Pantri.Iot.Domain;

/// <summary>The re-order rule of a tracked instruction. Reaching the trigger point while armed asks for one order;
/// placing it disarms; only a rise above the trigger point plus the hysteresis band re-arms, so readings that
/// jitter around the trigger point never ask twice.</summary>
public static class InventoryRule
{
    /// <summary>Applies a new level and says whether the rule wants an order now.</summary>
    public static LevelDecision Apply(Tracking tracking, double newLevel, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        var previous = tracking.Level;
        if (previous is { } before && newLevel < before)
        {
            AddUsage(tracking, before - newLevel, now);
        }

        tracking.Level = newLevel;
        tracking.UpdatedAt = now;
        var rearmed = false;
        if (newLevel > tracking.ReorderAt + tracking.Hysteresis)
        {
            rearmed = !tracking.Armed;
            tracking.Armed = true;
            tracking.LowReadings = 0;
        }
        else if (newLevel <= tracking.ReorderAt)
        {
            if (tracking.Armed)
            {
                tracking.LowReadings++;
            }
        }
        else
        {
            // Inside the band above the trigger point: not low, so a debounce run is broken, but not a refill either.
            tracking.LowReadings = 0;
        }

        var wantsOrder = tracking.Armed && newLevel <= tracking.ReorderAt && tracking.LowReadings >= Math.Max(1, tracking.Debounce);
        return new LevelDecision(wantsOrder, rearmed);
    }

    /// <summary>Records that the order the rule asked for was placed: the rule disarms until a refill.</summary>
    public static void OrderPlaced(Tracking tracking)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        tracking.Armed = false;
        tracking.LowReadings = 0;
    }

    private static void AddUsage(Tracking tracking, double used, DateTimeOffset at)
    {
        tracking.History.Add(new UsageSample { At = at, Used = used });
        if (tracking.History.Count > Tracking.HistoryLimit)
        {
            tracking.History.RemoveRange(0, tracking.History.Count - Tracking.HistoryLimit);
        }
    }
}

/// <summary>What a level change means.</summary>
/// <param name="WantsOrder">The trigger point was reached while armed (and debounced).</param>
/// <param name="Rearmed">This reading re-armed the rule.</param>
public readonly record struct LevelDecision(bool WantsOrder, bool Rearmed);
