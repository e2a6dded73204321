namespace Pantri.Iot.Contract;

/// <summary>Every MQTT topic of the contract, built in one place.</summary>
public static class Topics
{
    /// <summary>Prefix of all device topics.</summary>
    public const string DevicesPrefix = "pantri/v1/devices/";

    /// <summary>Prefix of all ops topics.</summary>
    public const string OpsPrefix = "pantri/v1/ops/";

    /// <summary>The filter an ops dashboard subscribes to.</summary>
    public const string OpsAll = "pantri/v1/ops/#";

    /// <summary>One event per processed command.</summary>
    public const string OpsEvents = "pantri/v1/ops/events";

    /// <summary>The gateway's shared subscription when it runs as a client of an external broker.</summary>
    public const string DeviceRequestsFilter = "pantri/v1/devices/+/+";

    /// <summary><c>pantri/v1/devices/{deviceId}/{kind}</c>.</summary>
    public static string Device(string deviceId, DeviceTopicKind kind) => DevicesPrefix + deviceId + "/" + Segment(kind);

    /// <summary>The only filter a device may subscribe to (or any filter below it).</summary>
    public static string DeviceNamespace(string deviceId) => DevicesPrefix + deviceId + "/";

    /// <summary><c>pantri/v1/ops/devices/{deviceId}</c>, retained presence.</summary>
    public static string OpsDevice(string deviceId) => OpsPrefix + "devices/" + deviceId;

    /// <summary><c>pantri/v1/ops/inventory/{instructionRef}</c>, retained inventory status.</summary>
    public static string OpsInventory(long instructionRef) => OpsPrefix + "inventory/" + instructionRef.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>pantri/v1/ops/orders/{orderRef}</c>, retained order state.</summary>
    public static string OpsOrder(long orderRef) => OpsPrefix + "orders/" + orderRef.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses <c>pantri/v1/devices/{deviceId}/{kind}</c>; false for anything else, including wildcards.</summary>
    public static bool TryParseDeviceTopic(string? topic, out string deviceId, out DeviceTopicKind kind)
    {
        deviceId = string.Empty;
        kind = default;
        if (topic is null || !topic.StartsWith(DevicesPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic.AsSpan(DevicesPrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        var id = rest[..slash];
        var last = rest[(slash + 1)..];
        if (last.IndexOf('/') >= 0 || !TryParseSegment(last, out kind))
        {
            return false;
        }

        deviceId = id.ToString();
        return DeviceIds.IsValid(deviceId);
    }

    /// <summary>True for the topics a device publishes its requests to.</summary>
    public static bool IsRequest(DeviceTopicKind kind) => kind is DeviceTopicKind.Trigger or DeviceTopicKind.Level or DeviceTopicKind.Usage;

    private static string Segment(DeviceTopicKind kind) => kind switch
    {
        DeviceTopicKind.Trigger => "trigger",
        DeviceTopicKind.Level => "level",
        DeviceTopicKind.Usage => "usage",
        DeviceTopicKind.Ack => "ack",
        DeviceTopicKind.Orders => "orders",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static bool TryParseSegment(ReadOnlySpan<char> segment, out DeviceTopicKind kind)
    {
        switch (segment)
        {
            case "trigger": kind = DeviceTopicKind.Trigger; return true;
            case "level": kind = DeviceTopicKind.Level; return true;
            case "usage": kind = DeviceTopicKind.Usage; return true;
            case "ack": kind = DeviceTopicKind.Ack; return true;
            case "orders": kind = DeviceTopicKind.Orders; return true;
            default: kind = default; return false;
        }
    }
}
