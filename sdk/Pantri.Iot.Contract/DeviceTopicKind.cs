namespace Pantri.Iot.Contract;

/// <summary>The last level of a device topic, <c>pantri/v1/devices/{DeviceId}/{kind}</c>.</summary>
public enum DeviceTopicKind
{
    /// <summary>Device → gateway: re-order an instruction.</summary>
    Trigger,

    /// <summary>Device → gateway: absolute level of a tracked instruction.</summary>
    Level,

    /// <summary>Device → gateway: units used of a tracked instruction.</summary>
    Usage,

    /// <summary>Gateway → device: acknowledgements.</summary>
    Ack,

    /// <summary>Gateway → device: order status changes.</summary>
    Orders,
}
