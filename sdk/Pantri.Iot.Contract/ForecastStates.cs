namespace Pantri.Iot.Contract;

/// <summary>The <c>State</c> of a <see cref="Forecast"/>.</summary>
public static class ForecastStates
{
    /// <summary>Enough usage history exists; the hours are filled in.</summary>
    public const string Known = "Known";

    /// <summary>Not enough usage history yet; <c>Reason</c> says what is missing.</summary>
    public const string Unknown = "Unknown";
}
