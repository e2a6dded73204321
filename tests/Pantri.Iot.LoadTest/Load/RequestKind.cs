namespace Pantri.Iot.LoadTest.Load;

/// <summary>What a simulated device sends.</summary>
public enum RequestKind
{
    /// <summary>A button press (trigger).</summary>
    Trigger,

    /// <summary>A level report.</summary>
    Level,
}
