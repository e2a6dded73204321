using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Orders: placing one and moving it through its lifecycle.</summary>
public sealed partial class ReplenishmentLedger
{
    /// <summary>A household's move of one of its open orders. A household may cancel an order until it ships and mark
    /// one received (Delivered) once the retailer confirmed or shipped it; every other move is the retailer's
    /// (<see cref="OrderMoveOutcome.NotHousehold"/>). A cancel of an order never sent cancels it at once (the
    /// dispatcher will not send it); once it was handed to the retailer, the cancel is only requested
    /// (<see cref="Order.CancelRequestedAt"/>, forwarded by the dispatcher) and the order stays as it is until the
    /// retailer accepts (→ Cancelled) or refuses (<see cref="Order.CancelRefusal"/>). Delivery of a tracked item raises
    /// its level by the packs ordered.</summary>
    public OrderMoveResult MoveOrder(string accountId, long orderRef, OrderState to, string by, DateTimeOffset now)
    {
        if (!_openOrders.TryGetValue(orderRef, out var order) || order.AccountId != accountId)
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        switch (to)
        {
            case OrderState.Cancelled when order is { State: OrderState.Placed or OrderState.AwaitingApproval, SentAt: null }:
                return Move(order, to, OrderSources.Household, by, null, now);
            case OrderState.Cancelled when OrderLifecycle.CanMove(order.State, to):
                if (order.CancelRequestedAt is null)
                {
                    _journal.Touch(order, open: true);
                    order.CancelRequestedAt = now;
                    order.CancelRefusal = null;
                    order.CancelReason = HouseholdCancel;
                    order.UpdatedAt = now;
                    Changed(order);
                }

                return new OrderMoveResult(OrderMoveOutcome.CancelRequested, order, null);
            case OrderState.Cancelled:
                return new OrderMoveResult(OrderMoveOutcome.NotAllowed, order, null);
            case OrderState.Delivered:
                return order.State is OrderState.Confirmed or OrderState.Shipped
                    ? Move(order, to, OrderSources.Household, by, null, now)
                    : new OrderMoveResult(OrderMoveOutcome.NotAllowed, order, null);
            default:
                return new OrderMoveResult(OrderMoveOutcome.NotHousehold, order, null);
        }
    }

    /// <summary>The dispatcher is about to send these queued orders to <paramref name="retailer"/>: marks each one still
    /// Placed as sent (<see cref="Order.SentAt"/>, so a later cancel is forwarded) and returns them; an order cancelled
    /// meanwhile is left out and never sent. Not published: nothing a household sees changed.</summary>
    public IReadOnlyList<Order> MarkSending(string retailer, IEnumerable<long> orderRefs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(orderRefs);
        var sending = new List<Order>();
        foreach (var orderRef in orderRefs)
        {
            if (_openOrders.TryGetValue(orderRef, out var order) && order.State == OrderState.Placed && string.Equals(order.Retailer, retailer, StringComparison.Ordinal))
            {
                if (order.SentAt is null)
                {
                    _journal.Touch(order, open: true);
                    order.SentAt = now;
                    Changed(order, publish: false);
                }

                sending.Add(order);
            }
        }

        return sending;
    }

    /// <summary>Records <paramref name="retailer"/>'s answer to a forwarded cancel: accepted → Cancelled (source
    /// retailer); refused → the order stays as it is and keeps the retailer's reason for the household to read.</summary>
    public OrderMoveResult AnswerCancel(string retailer, long orderRef, bool accepted, string? reason, DateTimeOffset now)
    {
        if (!_openOrders.TryGetValue(orderRef, out var order) || !string.Equals(order.Retailer, retailer, StringComparison.Ordinal) || order.CancelRequestedAt is null)
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        reason = reason is null ? null : reason[..Math.Min(reason.Length, MaxReasonLength)];
        if (accepted && OrderLifecycle.CanMove(order.State, OrderState.Cancelled))
        {
            var why = order.CancelReason ?? HouseholdCancel;
            return Move(order, OrderState.Cancelled, OrderSources.Retailer, retailer, reason is null ? why : $"{why} ({reason})", now);
        }

        _journal.Touch(order, open: true);
        order.CancelRequestedAt = null;
        order.CancelRefusal = accepted ? $"{retailer} accepted the cancel of an order that is already {order.State}" : reason ?? $"{retailer} refused the cancel";
        order.UpdatedAt = now;
        Changed(order);
        return new OrderMoveResult(OrderMoveOutcome.CancelRefused, order, null);
    }

    /// <summary>Moves an open order sent to <paramref name="retailer"/> on behalf of the retailer or the gateway's
    /// dispatcher (<paramref name="source"/>), with a reason. Orders of another retailer are not found.</summary>
    /// <remarks>A confirmation may carry the retailer's <paramref name="unitPrice"/> (in <paramref name="currency"/>,
    /// the household's when null): the order then counts at that price against the monthly limit, and a price above
    /// the instruction's price guard has the gateway cancel it at the retailer.</remarks>
    public OrderMoveResult AdvanceOrder(string retailer, long orderRef, OrderState to, string source, string? reason, DateTimeOffset now, decimal? unitPrice = null, string? currency = null)
    {
        ArgumentNullException.ThrowIfNull(retailer);
        if (!_openOrders.TryGetValue(orderRef, out var order) || !string.Equals(order.Retailer, retailer, StringComparison.Ordinal))
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        reason = reason is null ? null : reason[..Math.Min(reason.Length, MaxReasonLength)];
        if (to == OrderState.Rejected && source == OrderSources.Retailer && NextRetailer(order) is { } next && OrderLifecycle.CanMove(order.State, to))
        {
            return FallBack(order, next, reason, now);
        }

        if (to != OrderState.Confirmed || unitPrice is not { } price)
        {
            return Move(order, to, source, retailer, reason, now);
        }

        currency ??= CurrencyOf(order.AccountId);
        var breach = PriceGuardBreach(order, price, currency);
        var moved = Move(order, to, source, retailer, breach is null ? reason : breach + "; cancelling at the retailer", now);
        if (moved.Outcome == OrderMoveOutcome.Moved)
        {
            Quote(order, price, currency, breach, now);
        }

        return moved;
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
        if (!OrderLifecycle.IsOpen(to))
        {
            // Closed: nothing left to cancel at the retailer.
            order.CancelRequestedAt = null;
        }

        order.State = to;
        order.UpdatedAt = now;
        order.History.Add(new OrderTransition { State = to, At = now, By = by, Source = source, Reason = reason });
        Changed(order);
        Release(order);
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

    private Order Place(Actor actor, Instruction instruction, long orderRef, long commandRef, decimal? amount, DateTimeOffset now)
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
        };
        _journal.Added(order);
        order.State = Admit(instruction, order, amount, now);
        order.History = [new OrderTransition { State = order.State, At = now, By = actor.DeviceId ?? actor.Origin, Source = OrderSources.Gateway }];
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

    /// <summary>Only the retailer (or the gateway) makes that move, not a household.</summary>
    NotHousehold,

    /// <summary>The retailer may hold the order: the cancel is recorded and forwarded; the order stays as it is until
    /// the retailer answers.</summary>
    CancelRequested,

    /// <summary>The retailer refused the cancel; the order stays as it is.</summary>
    CancelRefused,
}

/// <summary>The result of <see cref="ReplenishmentLedger.MoveOrder"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Order">The order, when found.</param>
/// <param name="ChangedInstruction">The instruction whose level a delivery raised.</param>
public sealed record OrderMoveResult(OrderMoveOutcome Outcome, Order? Order, Instruction? ChangedInstruction);
