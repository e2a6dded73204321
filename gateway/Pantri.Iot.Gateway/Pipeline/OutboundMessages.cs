using System.Buffers;
using System.Globalization;
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

    /// <summary>An order's state, retained for ops only (as rebuilt at start). A closed order's stays retained for
    /// <c>Pantri:Ops:ClosedOrderRetention</c>, then <see cref="ClearRetained"/> removes it.</summary>
    public static OutboundMessage OpsOrder(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OutboundMessage(Topics.OpsOrder(order.Ref), ContractJson.Serialize(ContractViews.Order(order)), Retain: true);
    }

    /// <summary>True when <paramref name="message"/> is the retained ops state of a closed order (Delivered, Failed,
    /// Cancelled), read back from the message as <see cref="OpsOrder"/> wrote it.</summary>
    public static bool IsClosedOrder(OutboundMessage message, out long orderRef)
    {
        ArgumentNullException.ThrowIfNull(message);
        orderRef = 0;
        var topic = message.Topic;
        if (!message.Retain || message.Payload.IsEmpty
            || !long.TryParse(topic.AsSpan(topic.LastIndexOf('/') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var reference)
            || topic != Topics.OpsOrder(reference))
        {
            return false;
        }

        string? state;
        try
        {
            state = JsonSerializer.Deserialize(message.Payload.Span, ContractJson.Default.OrderStatus)?.State;
        }
        catch (JsonException)
        {
            // Not an order's state after all; the message is still published as it is.
            return false;
        }

        if (!Enum.GetValues<OrderState>().Any(s => s.ToString() == state && !OrderLifecycle.IsOpen(s)))
        {
            return false;
        }

        orderRef = reference;
        return true;
    }

    /// <summary>An offline presence for a device after a gateway restart: the gateway does not store when a device was
    /// last seen, so <c>LastSeen</c> is left out and <c>Reason</c> says why.</summary>
    public static OutboundMessage PresenceAfterRestart(string deviceId)
    {
        var presence = new DevicePresence { DeviceId = deviceId, Status = PresenceStatus.Offline, Reason = DisconnectReasons.GatewayRestarted };
        return new OutboundMessage(Topics.OpsDevice(deviceId), ContractJson.Serialize(presence), Retain: true);
    }

    /// <summary>Removes the retained message of <paramref name="topic"/>: MQTT's way is an empty retained publish, which
    /// the broker also forwards to current subscribers, so a dashboard learns the topic is gone.</summary>
    public static OutboundMessage ClearRetained(string topic) => new(topic, ReadOnlyMemory<byte>.Empty, Retain: true);

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
