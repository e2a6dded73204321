using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Orders: placing one and moving it through its lifecycle.</summary>
public sealed partial class ReplenishmentLedger
{
    /// <summary>Moves an open order of the household to a new state. Delivery of a tracked item raises its level by the
    /// packs ordered.</summary>
    public OrderMoveResult MoveOrder(string accountId, long orderRef, OrderState to, string by, DateTimeOffset now)
    {
        if (!_openOrders.TryGetValue(orderRef, out var order) || order.AccountId != accountId)
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        return Move(order, to, OrderSources.Household, by, null, now);
    }

    /// <summary>Moves an open order sent to <paramref name="retailer"/> on behalf of the retailer or the gateway's
    /// dispatcher (<paramref name="source"/>), with a reason. Orders of another retailer are not found.</summary>
    public OrderMoveResult AdvanceOrder(string retailer, long orderRef, OrderState to, string source, string? reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(retailer);
        if (!_openOrders.TryGetValue(orderRef, out var order) || !string.Equals(order.Retailer, retailer, StringComparison.Ordinal))
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        return Move(order, to, source, retailer, reason is null ? null : reason[..Math.Min(reason.Length, MaxReasonLength)], now);
    }

    /// <summary>Longest reason kept on a transition; a retailer's longer text is cut.</summary>
    public const int MaxReasonLength = 500;

    private OrderMoveResult Move(Order order, OrderState to, string source, string by, string? reason, DateTimeOffset now)
    {
        if (!OrderLifecycle.CanMove(order.State, to))
        {
            return new OrderMoveResult(OrderMoveOutcome.NotAllowed, order, null);
        }

        _journal.Touch(order, open: true);
        order.State = to;
        order.UpdatedAt = now;
        order.History.Add(new OrderTransition { State = to, At = now, By = by, Source = source, Reason = reason });
        Changed(order);
        Instruction? raised = null;
        if (!order.IsOpen)
        {
            _openOrders.Remove(order.Ref);
            _openOrdersByInstruction.Remove(order.InstructionRef);
            if (to == OrderState.Delivered
                && _instructions.TryGetValue(order.InstructionRef, out var instruction)
                && instruction.Tracking is { UnitsPerPack: { } perPack, Level: { } level } tracking)
            {
                _journal.Touch(instruction);
                InventoryRule.Apply(tracking, Math.Min(DeviceRequestParser.MaxQuantity, level + (perPack * order.Quantity)), now);
                Changed(instruction);
                raised = instruction;
            }
        }

        return new OrderMoveResult(OrderMoveOutcome.Moved, order, raised);
    }

    private Order Place(Actor actor, Instruction instruction, long orderRef, long commandRef, DateTimeOffset now)
    {
        var order = new Order
        {
            Ref = orderRef,
            InstructionRef = instruction.Ref,
            AccountId = instruction.AccountId,
            DeviceId = actor.DeviceId,
            Origin = actor.Origin,
            CommandRef = commandRef,
            State = OrderState.Placed,
            Product = instruction.Product,
            Retailer = instruction.Retailer,
            Quantity = instruction.Quantity,
            CreatedAt = now,
            UpdatedAt = now,
            History = [new OrderTransition { State = OrderState.Placed, At = now, By = actor.DeviceId ?? actor.Origin, Source = OrderSources.Gateway }],
        };
        _journal.Added(order);
        _openOrders[order.Ref] = order;
        _openOrdersByInstruction[order.InstructionRef] = order;
        Changed(order);
        return order;
    }
}

/// <summary>What happened to an order move.</summary>
public enum OrderMoveOutcome
{
    /// <summary>The order moved.</summary>
    Moved,

    /// <summary>No open order of that ref in that account.</summary>
    NotOpen,

    /// <summary>The lifecycle does not allow that move.</summary>
    NotAllowed,
}

/// <summary>The result of <see cref="ReplenishmentLedger.MoveOrder"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Order">The order, when found.</param>
/// <param name="ChangedInstruction">The instruction whose level a delivery raised.</param>
public sealed record OrderMoveResult(OrderMoveOutcome Outcome, Order? Order, Instruction? ChangedInstruction);
