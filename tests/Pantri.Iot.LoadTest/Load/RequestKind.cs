namespace Pantri.Iot.LoadTest.Load;

/// <summary>What a simulated device sends.</summary>
public enum RequestKind
{
    /// <summary>A button press (trigger).</summary>
    Trigger,

    /// <summary>A level report.</summary>
    Level,

    /// <summary>A trigger for the device's next instruction not ordered yet, so that every one places an order
    /// (<c>--orders-per-device</c> instructions per device are provisioned for it on F).</summary>
    Order,
}
