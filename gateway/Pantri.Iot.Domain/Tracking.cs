namespace Pantri.Iot.Domain;

/// <summary>The inventory of a tracked instruction: the user's settings and the state the rule keeps.</summary>
public sealed class Tracking
{
    /// <summary>How many usage samples the forecast keeps.</summary>
    public const int HistoryLimit = 64;

    /// <summary>Current level in <see cref="Unit"/>; null until the first level report.</summary>
    public double? Level { get; set; }

    /// <summary>The user's trigger point: reaching it places an order.</summary>
    public double ReorderAt { get; set; }

    /// <summary>count, g, ml, percent…</summary>
    public string Unit { get; set; } = "count";

    /// <summary>Units one ordered pack adds when the order is delivered; null = delivery does not change the level.</summary>
    public double? UnitsPerPack { get; set; }

    /// <summary>The level must rise above ReorderAt + Hysteresis before the rule re-arms.</summary>
    public double Hysteresis { get; set; }

    /// <summary>Consecutive readings at or below the trigger point needed before ordering.</summary>
    public int Debounce { get; set; } = 1;

    /// <summary>Whether reaching the trigger point will order.</summary>
    public bool Armed { get; set; } = true;

    /// <summary>Consecutive low readings while armed.</summary>
    public int LowReadings { get; set; }

    /// <summary>Recent consumption, oldest first, for the forecast.</summary>
    public List<UsageSample> History { get; set; } = [];

    /// <summary>When the level last changed.</summary>
    public DateTimeOffset? UpdatedAt { get; set; }
}
