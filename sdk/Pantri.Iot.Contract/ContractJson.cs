using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary>Serialises the contract's messages: field names as the contract spells them, nulls left out.</summary>
public static class ContractJson
{
    private static readonly ContractJsonContext Context = new(CreateOptions(indented: false));

    // For files people open (demo-household.json); messages stay compact.
    private static readonly ContractJsonContext IndentedContext = new(CreateOptions(indented: true));

    /// <summary>The serialiser context with the contract's settings.</summary>
    public static ContractJsonContext Default => Context;

    /// <summary>Options for reading and writing contract messages (case-insensitive, as the contract promises).</summary>
    public static JsonSerializerOptions Options => Context.Options;

    /// <summary>UTF-8 JSON of an acknowledgement.</summary>
    public static byte[] Serialize(Acknowledgement ack) => JsonSerializer.SerializeToUtf8Bytes(ack, Context.Acknowledgement);

    /// <summary>UTF-8 JSON of an ops event.</summary>
    public static byte[] Serialize(OpsEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, Context.OpsEvent);

    /// <summary>UTF-8 JSON of a presence message.</summary>
    public static byte[] Serialize(DevicePresence value) => JsonSerializer.SerializeToUtf8Bytes(value, Context.DevicePresence);

    /// <summary>UTF-8 JSON of an inventory status.</summary>
    public static byte[] Serialize(InventoryStatus value) => JsonSerializer.SerializeToUtf8Bytes(value, Context.InventoryStatus);

    /// <summary>UTF-8 JSON of an order status.</summary>
    public static byte[] Serialize(OrderStatus value) => JsonSerializer.SerializeToUtf8Bytes(value, Context.OrderStatus);

    /// <summary>UTF-8 JSON of a provisioning response.</summary>
    public static byte[] Serialize(ProvisioningResponse value) => JsonSerializer.SerializeToUtf8Bytes(value, Context.ProvisioningResponse);

    /// <summary>Reads a provisioning request; null for JSON <c>null</c>. Throws <see cref="JsonException"/> for anything that is not one.</summary>
    public static ProvisioningRequest? DeserializeProvisioningRequest(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Context.ProvisioningRequest);

    /// <summary>Reads a provisioning response (for devices and tests).</summary>
    public static ProvisioningResponse? DeserializeProvisioningResponse(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Context.ProvisioningResponse);

    /// <summary>Reads an acknowledgement (for devices, the SDK and tests).</summary>
    public static Acknowledgement? DeserializeAcknowledgement(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Context.Acknowledgement);

    internal static byte[] SerializeIndented(DemoHouseholdFile value) => JsonSerializer.SerializeToUtf8Bytes(value, IndentedContext.DemoHouseholdFile);

    internal static DemoHouseholdFile? DeserializeDemoHousehold(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Context.DemoHouseholdFile);

    // Relaxed escaping keeps "Didn't do" readable for firmware that matches on the text; the output is still valid JSON.
    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}

/// <summary>Source-generated serialisers: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(Acknowledgement))]
[JsonSerializable(typeof(OpsEvent))]
[JsonSerializable(typeof(DevicePresence))]
[JsonSerializable(typeof(InventoryStatus))]
[JsonSerializable(typeof(OrderStatus))]
[JsonSerializable(typeof(DemoHouseholdFile))]
[JsonSerializable(typeof(ProvisioningRequest))]
[JsonSerializable(typeof(ProvisioningResponse))]
public sealed partial class ContractJsonContext : JsonSerializerContext;
