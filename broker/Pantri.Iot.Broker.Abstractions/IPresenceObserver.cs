namespace Pantri.Iot.Broker.Abstractions;

/// <summary>Told when a device's presence changes (after the broker published it to ops), for whoever else must know,
/// e.g. the device's household. Called on the broker's connection path: an implementation must return at once and
/// must not throw.</summary>
public interface IPresenceObserver
{
    /// <summary>The device <paramref name="deviceId"/> is now <paramref name="status"/> (online or offline), for
    /// <paramref name="reason"/> (clean, dropped, takeover) when offline.</summary>
    void PresenceChanged(string deviceId, string status, string? reason, DateTimeOffset at);
}
