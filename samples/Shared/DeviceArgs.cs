using System.Globalization;
using Pantri.Iot.Contract;
using Pantri.Iot.Sdk;

namespace Pantri.Iot.Samples;

/// <summary>The command line the device samples share: where the gateway is and who the device is, either from the
/// gateway's demo-household.json (read through the contract's DemoHouseholdFile) or given explicitly.</summary>
/// <remarks>
/// <c>--household PATH</c> (default data/demo-household.json) · <c>--host HOST</c> (127.0.0.1) · <c>--port N</c> (1883)
/// · <c>--device-id ID --device-key KEY --instruction-ref REF</c> (instead of the household file) · <c>--queue PATH</c>
/// (the durable queue; default &lt;device-id&gt;.queue in the working directory) · <c>--mqtt311</c>.
/// </remarks>
internal sealed class DeviceArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    private DeviceArgs()
    {
    }

    public static DeviceArgs Parse(string[] args)
    {
        var parsed = new DeviceArgs();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument {args[i]} (options start with --)");
            }

            var name = args[i][2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            parsed._values[name] = hasValue ? args[++i] : null;
        }

        return parsed;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public int GetInt(string name, int fallback) =>
        Get(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public double GetDouble(string name, double fallback) =>
        Get(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The SDK options for the device, and the instruction it works on.</summary>
    /// <param name="defaultDeviceId">The demo household's device this sample plays by default.</param>
    public (PantriDeviceOptions Options, long? InstructionRef) Device(string defaultDeviceId)
    {
        var deviceId = Get("device-id") ?? defaultDeviceId;
        string key;
        long? instructionRef;
        if (Get("device-key") is { } explicitKey)
        {
            key = explicitKey;
            instructionRef = Get("instruction-ref") is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;
        }
        else
        {
            var file = Get("household") ?? Path.Combine("data", DemoHouseholdFile.FileName);
            var device = DemoHouseholdFile.Read(file).Device(deviceId);
            key = device.DeviceKey;
            instructionRef = Get("instruction-ref") is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : device.InstructionRef;
        }

        var options = new PantriDeviceOptions
        {
            Host = Get("host") ?? "127.0.0.1",
            Port = GetInt("port", 1883),
            DeviceId = deviceId,
            DeviceKey = key,
            ProtocolVersion = Has("mqtt311") ? PantriProtocolVersion.Mqtt311 : PantriProtocolVersion.Mqtt5,
            QueuePath = Get("queue") ?? deviceId + ".queue",
        };
        return (options, instructionRef);
    }
}
