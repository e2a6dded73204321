using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary>Expected time until the trigger point and until empty, from the usage history.</summary>
public sealed record Forecast
{
    /// <summary><see cref="ForecastStates.Known"/>, or <see cref="ForecastStates.Unknown"/> until there is enough history.</summary>
    public required string State { get; init; }

    /// <summary>Average use per day over the history window.</summary>
    [JsonPropertyName("UsagePerDay")]
    public double? UsagePerDay { get; init; }

    /// <summary>Hours until the level reaches the trigger point (0 when it is already there).</summary>
    public double? HoursToReorder { get; init; }

    /// <summary>Hours until the level reaches zero.</summary>
    public double? HoursToEmpty { get; init; }

    /// <summary>Why the forecast is unknown.</summary>
    public string? Reason { get; init; }

    /// <summary>The forecast before enough history exists.</summary>
    public static Forecast Unknown(string reason) => new() { State = ForecastStates.Unknown, Reason = reason };
}
