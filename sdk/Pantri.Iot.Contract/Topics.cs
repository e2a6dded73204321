using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Pantri.Iot.Contract;

/// <summary>Every MQTT topic of the contract, built in one place.</summary>
public static partial class Topics
{
    /// <summary>Prefix of all device topics.</summary>
    public const string DevicesPrefix = "pantri/v1/devices/";

    /// <summary>Prefix of all ops topics.</summary>
    public const string OpsPrefix = "pantri/v1/ops/";

    /// <summary>The filter an ops dashboard subscribes to.</summary>
    public const string OpsAll = "pantri/v1/ops/#";

    /// <summary>One event per processed command.</summary>
    public const string OpsEvents = "pantri/v1/ops/events";

    /// <summary><c>pantri/v1/devices/{deviceId}/{kind}</c>.</summary>
    public static string Device(string deviceId, DeviceTopicKind kind) => DevicesPrefix + deviceId + "/" + Name(kind);

    /// <summary>The only filter a device may subscribe to (or any filter below it).</summary>
    public static string DeviceNamespace(string deviceId) => DevicesPrefix + deviceId + "/";

    /// <summary><c>pantri/v1/ops/devices/{deviceId}</c>, retained presence.</summary>
    public static string OpsDevice(string deviceId) => OpsPrefix + "devices/" + deviceId;

    /// <summary><c>pantri/v1/ops/inventory/{instructionRef}</c>, retained inventory status.</summary>
    public static string OpsInventory(long instructionRef) => OpsPrefix + "inventory/" + instructionRef.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>pantri/v1/ops/orders/{orderRef}</c>, retained order state.</summary>
    public static string OpsOrder(long orderRef) => OpsPrefix + "orders/" + orderRef.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>pantri/v1/devices/{deviceId}/{kind}</c>; false for anything else, including wildcards.</summary>
    public static bool TryParseDeviceTopic(string? topic, out string deviceId, out DeviceTopicKind kind)
    {
        deviceId = string.Empty;
        kind = default;
        if (!TryGetDeviceId(topic, out var owner))
        {
            return false;
        }

        var last = topic.AsSpan(DevicesPrefix.Length + owner.Length + 1);
        if (last.Contains('/') || !TryParseName(last, out kind))
        {
            return false;
        }

        deviceId = owner;
        return true;
    }

    /// <summary>The device whose namespace <paramref name="topic"/> lies in: any topic or filter of the form
    /// <c>pantri/v1/devices/{deviceId}/…</c> with a valid <paramref name="deviceId"/>, whatever follows the slash.</summary>
    /// <param name="topic">A topic name or filter.</param>
    /// <param name="deviceId">The owning device, or empty when the method returns false.</param>
    /// <returns>False for topics outside <see cref="DevicesPrefix"/>, without a slash after the id, or whose id is
    /// not a valid DeviceId (a <c>+</c> wildcard in the id level included).</returns>
    public static bool TryGetDeviceId([NotNullWhen(true)] string? topic, out string deviceId)
    {
        deviceId = string.Empty;
        if (topic is null || !topic.StartsWith(DevicesPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var slash = topic.AsSpan(DevicesPrefix.Length).IndexOf('/');
        var id = slash > 0 ? topic.Substring(DevicesPrefix.Length, slash) : null;
        if (!DeviceIds.IsValid(id))
        {
            return false;
        }

        deviceId = id;
        return true;
    }

    /// <summary>True when a device may receive its ack on <paramref name="responseTopic"/> (an MQTT 5 ResponseTopic):
    /// strictly inside <c>pantri/v1/devices/{deviceId}/</c> and free of <c>+</c> and <c>#</c>, so no device can make
    /// the gateway publish into another device's namespace or to a filter.</summary>
    /// <param name="deviceId">The authenticated device that sent the request.</param>
    /// <param name="responseTopic">The ResponseTopic it asked for, or null.</param>
    public static bool IsOwnResponseTopic(string deviceId, [NotNullWhen(true)] string? responseTopic)
    {
        // An invalid id could contain '/' or be empty, and then "inside its namespace" would mean someone else's.
        if (responseTopic is null || !DeviceIds.IsValid(deviceId))
        {
            return false;
        }

        var slash = DevicesPrefix.Length + deviceId.Length;
        return responseTopic.Length > slash + 1
            && responseTopic.StartsWith(DevicesPrefix, StringComparison.Ordinal)
            && responseTopic.AsSpan(DevicesPrefix.Length, deviceId.Length).SequenceEqual(deviceId)
            && responseTopic[slash] == '/'
            && !responseTopic.AsSpan().ContainsAny('+', '#');
    }

    /// <summary>True for the topics a device publishes its requests to.</summary>
    public static bool IsRequest(DeviceTopicKind kind) => kind is DeviceTopicKind.Trigger or DeviceTopicKind.Level or DeviceTopicKind.Usage;

    /// <summary>The topic level of <paramref name="kind"/>: <c>trigger</c>, <c>level</c>, <c>usage</c>, <c>ack</c> or
    /// <c>orders</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    public static string Name(DeviceTopicKind kind) => kind switch
    {
        DeviceTopicKind.Trigger => "trigger",
        DeviceTopicKind.Level => "level",
        DeviceTopicKind.Usage => "usage",
        DeviceTopicKind.Ack => "ack",
        DeviceTopicKind.Orders => "orders",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a device topic kind"),
    };

    private static bool TryParseName(ReadOnlySpan<char> segment, out DeviceTopicKind kind)
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
