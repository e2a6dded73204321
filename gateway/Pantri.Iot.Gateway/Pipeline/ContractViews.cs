using Pantri.Iot.Contract;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>The contract's views of domain entities, as devices, ops and the app see them.</summary>
public static class ContractViews
{
    /// <summary>A tracked instruction's inventory.</summary>
    public static InventoryStatus Inventory(Instruction instruction, DateTimeOffset at)
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

    /// <summary>An order's state with every transition, as the app reads one order.</summary>
    public static OrderStatus OrderWithHistory(Order order) => Order(order) with
    {
        History = order.History.Select(h => new OrderStep(h.State.ToString(), h.At, h.Source.Length > 0 ? h.Source : null, h.By, h.Reason)).ToList(),
    };

    /// <summary>An order's state.</summary>
    public static OrderStatus Order(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OrderStatus
        {
            OrderRef = order.Ref,
            InstructionRef = order.InstructionRef,
            State = order.State.ToString(),
            Source = order.History.Count > 0 && order.History[^1].Source.Length > 0 ? order.History[^1].Source : null,
            Reason = order.History.Count > 0 ? order.History[^1].Reason : null,
            Product = order.Product,
            Retailer = order.Retailer,
            Quantity = order.Quantity,
            CommandRef = order.CommandRef,
            UpdatedAt = order.UpdatedAt,
            CancelRequestedAt = order.CancelRequestedAt,
            CancelRefusal = order.CancelRefusal,
            UnitPrice = order.UnitPrice,
            Currency = order.UnitPrice is null ? null : order.Currency,
        };
    }
}
