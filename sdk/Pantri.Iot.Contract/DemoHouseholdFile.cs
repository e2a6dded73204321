using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary><c>demo-household.json</c>: the demo account's credentials, written by the gateway into its data
/// directory on first start, and read by tests and samples so a newcomer can press the demo button within a
/// minute.</summary>
/// <remarks>Equality compares the devices one by one, and <see cref="object.ToString"/> leaves the secrets out, so a
/// failing test or a log line never prints a usable <c>User_Auth</c> or <c>Device_Key</c>.</remarks>
/// <example>
/// <code>
/// var demo = DemoHouseholdFile.ReadFromDirectory("data");
/// var button = demo.Device("demo-button");
/// var options = new MqttClientOptionsBuilder().WithCredentials(button.DeviceId, button.DeviceKey).Build();
/// </code>
/// </example>
public sealed record DemoHouseholdFile
{
    /// <summary>Name of the file inside the gateway's data directory.</summary>
    public const string FileName = "demo-household.json";

    /// <summary>The demo account (household).</summary>
    public required string AccountId { get; init; }

    /// <summary>A bearer token for the demo account, for the HTTP API.</summary>
    [JsonPropertyName(FieldNames.UserAuth)]
    public required string UserAuth { get; init; }

    /// <summary>The demo devices, each with its secret and its paired instruction.</summary>
    public required IReadOnlyList<DemoHouseholdDevice> Devices { get; init; }

    /// <summary>The device with id <paramref name="deviceId"/>.</summary>
    /// <param name="deviceId">A DeviceId, such as <c>demo-button</c> or <c>demo-jar</c>.</param>
    /// <exception cref="KeyNotFoundException">The file lists no such device; the message names it and the ones listed.</exception>
    public DemoHouseholdDevice Device(string deviceId)
    {
        foreach (var device in Devices)
        {
            if (string.Equals(device.DeviceId, deviceId, StringComparison.Ordinal))
            {
                return device;
            }
        }

        throw new KeyNotFoundException(
            $"The demo household has no device \"{deviceId}\"; it lists {string.Join(", ", Devices.Select(d => "\"" + d.DeviceId + "\""))}.");
    }

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <param name="path">Path of the file itself (see <see cref="ReadFromDirectory"/> for a data directory).</param>
    /// <exception cref="InvalidDataException">The file is not JSON, or a field is missing or invalid; the message
    /// names the file and the field.</exception>
    /// <exception cref="FileNotFoundException">There is no such file; the gateway writes it on first start.</exception>
    public static DemoHouseholdFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads <see cref="FileName"/> from the gateway's data directory.</summary>
    /// <param name="dataDirectory">The gateway's <c>Pantri:DataDirectory</c>.</param>
    /// <exception cref="InvalidDataException">The file is malformed, as for <see cref="Read"/>.</exception>
    /// <exception cref="FileNotFoundException">The gateway has not written the file (yet).</exception>
    public static DemoHouseholdFile ReadFromDirectory(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return Read(Path.Combine(dataDirectory, FileName));
    }

    /// <summary>Reads the file's content from memory, with the same checks as <see cref="Read"/>.</summary>
    /// <param name="json">UTF-8 JSON; field names match in any case.</param>
    /// <exception cref="InvalidDataException">The JSON is malformed, or a field is missing or invalid.</exception>
    public static DemoHouseholdFile FromJson(ReadOnlySpan<byte> json) => Parse(json, "the demo household JSON");

    /// <summary>The file's content: indented UTF-8 JSON with the contract's field names, nulls left out.</summary>
    public byte[] ToJson() => ContractJson.SerializeIndented(this);

    /// <summary>True when the account, token and every device (in order) are equal.</summary>
    /// <param name="other">The file to compare with.</param>
    public bool Equals(DemoHouseholdFile? other) =>
        ReferenceEquals(this, other)
        || (other is not null
            && string.Equals(AccountId, other.AccountId, StringComparison.Ordinal)
            && string.Equals(UserAuth, other.UserAuth, StringComparison.Ordinal)
            && Devices.SequenceEqual(other.Devices));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(AccountId, UserAuth, Devices.Count);

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("AccountId = ").Append(AccountId).Append(", Devices = [")
            .AppendJoin(", ", Devices).Append(']');
        return true;
    }

    private static DemoHouseholdFile Parse(ReadOnlySpan<byte> json, string source)
    {
        DemoHouseholdFile? file;
        try
        {
            file = ContractJson.DeserializeDemoHousehold(json);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{source} is not a valid demo household file: {exception.Message}", exception);
        }

        var problem = file is null ? "it holds null" : file.FindProblem();
        return problem is null ? file! : throw new InvalidDataException($"{source} is not a valid demo household file: {problem}.");
    }

    // The serializer enforces that required fields are present, not that they are non-null or meaningful.
    private string? FindProblem()
    {
        if (string.IsNullOrEmpty(AccountId))
        {
            return "AccountId is empty";
        }

        if (string.IsNullOrEmpty(UserAuth))
        {
            return FieldNames.UserAuth + " is empty";
        }

        if (Devices is null)
        {
            return "Devices is null";
        }

        return Devices.Select(d => d is null ? "a device is null" : d.FindProblem()).FirstOrDefault(p => p is not null);
    }
}

/// <summary>One device of the demo household.</summary>
public sealed record DemoHouseholdDevice
{
    /// <summary>Its DeviceId: the MQTT client id and username.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Its secret: the MQTT password, or the <c>Device_Key</c> header over HTTP.</summary>
    [JsonPropertyName(FieldNames.DeviceKey)]
    public required string DeviceKey { get; init; }

    /// <summary>The instruction it is paired with.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public required long InstructionRef { get; init; }

    /// <summary>The starting level of a tracked instruction (the smart jar), or null.</summary>
    public double? Level { get; init; }

    /// <summary>The trigger point of a tracked instruction, or null.</summary>
    public double? ReorderAt { get; init; }

    internal string? FindProblem()
    {
        if (!DeviceIds.IsValid(DeviceId))
        {
            return $"device \"{DeviceId}\" is not a valid DeviceId";
        }

        if (string.IsNullOrEmpty(DeviceKey))
        {
            return $"device \"{DeviceId}\" has an empty {FieldNames.DeviceKey}";
        }

        return InstructionRef > 0 ? null : $"device \"{DeviceId}\" has no positive {FieldNames.InstructionRef}";
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("DeviceId = ").Append(DeviceId)
            .Append(", InstructionRef = ").Append(InstructionRef)
            .Append(", Level = ").Append(Level)
            .Append(", ReorderAt = ").Append(ReorderAt);
        return true;
    }
}
