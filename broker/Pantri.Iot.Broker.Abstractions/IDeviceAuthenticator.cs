namespace Pantri.Iot.Broker.Abstractions;

/// <summary>Checks a device's credentials. Called on every CONNECT, so it must answer from memory.</summary>
public interface IDeviceAuthenticator
{
    /// <summary>True when <paramref name="deviceId"/> exists and <paramref name="deviceKey"/> is its key.</summary>
    bool IsValid(string deviceId, string deviceKey);
}
