using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>Builds the messages that tell ops and devices what changed.</summary>
public static class OutboundMessages
{
    /// <summary>The ops event of a processed command.</summary>
    public static OutboundMessage Event(Acknowledgement ack, string kind, string? deviceId, string? accountId, DateTimeOffset at) =>
        new(Topics.OpsEvents, ContractJson.Serialize(new OpsEvent { At = at, Kind = kind, DeviceId = deviceId, AccountId = accountId, Ack = ack }));

    /// <summary>An order's state, retained for ops and sent to each paired device.</summary>
    public static IEnumerable<OutboundMessage> Order(Order order, Instruction? instruction)
    {
        ArgumentNullException.ThrowIfNull(order);
        var payload = ContractJson.Serialize(ToStatus(order));
        yield return new OutboundMessage(Topics.OpsOrder(order.Ref), payload, Retain: true);
        foreach (var deviceId in instruction?.DeviceIds ?? [])
        {
            yield return new OutboundMessage(Topics.Device(deviceId, DeviceTopicKind.Orders), payload);
        }
    }

    /// <summary>A tracked instruction's inventory, retained for ops.</summary>
    public static OutboundMessage Inventory(Instruction instruction, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        return new OutboundMessage(Topics.OpsInventory(instruction.Ref), ContractJson.Serialize(ToInventory(instruction, at)), Retain: true);
    }

    /// <summary>The contract's view of a tracked instruction's inventory.</summary>
    public static InventoryStatus ToInventory(Instruction instruction, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        var tracking = instruction.Tracking ?? throw new ArgumentException("The instruction is not tracked.", nameof(instruction));
        return new InventoryStatus
        {
            InstructionRef = instruction.Ref,
            Level = tracking.Level,
            ReorderAt = tracking.ReorderAt,
            Unit = tracking.Unit,
            Armed = tracking.Armed,
            Forecast = ForecastCalculator.Compute(tracking),
            UpdatedAt = tracking.UpdatedAt ?? at,
        };
    }

    /// <summary>The contract's view of an order.</summary>
    public static OrderStatus ToStatus(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OrderStatus
        {
            OrderRef = order.Ref,
            InstructionRef = order.InstructionRef,
            State = order.State.ToString(),
            Product = order.Product,
            Retailer = order.Retailer,
            Quantity = order.Quantity,
            CommandRef = order.CommandRef,
            UpdatedAt = order.UpdatedAt,
        };
    }
}
