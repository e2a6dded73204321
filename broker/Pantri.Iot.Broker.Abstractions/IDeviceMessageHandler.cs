namespace Pantri.Iot.Broker.Abstractions;

/// <summary>Where a transport hands device requests. The returned task completes once the request's effect is
/// committed and its ack published, so a transport may acknowledge delivery (PUBACK) only after it.</summary>
public interface IDeviceMessageHandler
{
    /// <summary>Processes one request.</summary>
    Task HandleAsync(DeviceMessage message, CancellationToken cancellationToken);
}
