using System.Buffers;
using System.Text.Json;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Builds the messages that tell ops and devices what changed.</summary>
public static class OutboundMessages
{
    /// <summary>The ops event of a processed command. The ack goes in as the bytes the device got, not serialised
    /// again.</summary>
    public static OutboundMessage Event(ReadOnlyMemory<byte> ackJson, string kind, string? deviceId, string? accountId, DateTimeOffset at)
    {
        var buffer = new ArrayBufferWriter<byte>(ackJson.Length + 160);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ContractJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteString(nameof(OpsEvent.At), at);
            json.WriteString(nameof(OpsEvent.Kind), kind);
            WriteIfNotNull(json, nameof(OpsEvent.DeviceId), deviceId);
            WriteIfNotNull(json, nameof(OpsEvent.AccountId), accountId);
            json.WritePropertyName(nameof(OpsEvent.Ack));
            json.WriteRawValue(ackJson.Span, skipInputValidation: true);
            json.WriteEndObject();
        }

        return new OutboundMessage(Topics.OpsEvents, buffer.WrittenMemory);
    }

    /// <summary>An order's state, retained for ops and sent to each paired device.</summary>
    public static IEnumerable<OutboundMessage> Order(Order order, Instruction? instruction)
    {
        var ops = OpsOrder(order);
        yield return ops;
        foreach (var deviceId in instruction?.DeviceIds ?? [])
        {
            yield return new OutboundMessage(Topics.Device(deviceId, DeviceTopicKind.Orders), ops.Payload);
        }
    }

    /// <summary>An order's state, retained for ops only (as rebuilt at start).</summary>
    public static OutboundMessage OpsOrder(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OutboundMessage(Topics.OpsOrder(order.Ref), ContractJson.Serialize(ContractViews.Order(order)), Retain: true);
    }

    /// <summary>An offline presence for a device after a gateway restart: the gateway does not store when a device was
    /// last seen, so <c>LastSeen</c> is left out and <c>Reason</c> says why.</summary>
    public static OutboundMessage PresenceAfterRestart(string deviceId)
    {
        var presence = new DevicePresence { DeviceId = deviceId, Status = PresenceStatus.Offline, Reason = DisconnectReasons.GatewayRestarted };
        return new OutboundMessage(Topics.OpsDevice(deviceId), ContractJson.Serialize(presence), Retain: true);
    }

    /// <summary>A tracked instruction's inventory, retained for ops.</summary>
    public static OutboundMessage Inventory(Instruction instruction, DateTimeOffset at) =>
        new(Topics.OpsInventory(instruction.Ref), ContractJson.Serialize(ContractViews.Inventory(instruction, at)), Retain: true);

    private static void WriteIfNotNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
