using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>A setup request of a household; each maps to one ledger method. Runs on the writer like a device
/// command, so setup and presses never race.</summary>
/// <typeparam name="T">What the API answers.</typeparam>
public abstract record SetupCommand<T> : IWriterCommand<SetupResult<T>>, IAuditedCommand
{
    /// <summary>Who asks; set by <see cref="SetupService"/> (the user of the request, or <c>cli</c>). Every change the
    /// command makes is written to the audit log under this name.</summary>
    public string By { get; init; } = "gateway";

    /// <inheritdoc/>
    public abstract SetupResult<T> Execute(UnitOfWork work);

    /// <inheritdoc/>
    public SetupResult<T> Unavailable(long commandRef) => SetupResult.Fail<T>(StatusCodes.Status503ServiceUnavailable, "storage unavailable; nothing was recorded");

    /// <inheritdoc/>
    public SetupResult<T> Failed(long commandRef) => SetupResult.Fail<T>(StatusCodes.Status500InternalServerError, "internal error; nothing was recorded");

    /// <summary>How the setup API shows an instruction.</summary>
    protected static InstructionView View(UnitOfWork work, Instruction instruction)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(instruction);
        return new InstructionView
        {
            InstructionRef = instruction.Ref,
            Product = instruction.Product,
            Retailer = instruction.Retailer,
            Quantity = instruction.Quantity,
            DeviceIds = instruction.DeviceIds.ToList(),
            Inventory = instruction.Tracking is null ? null : ContractViews.Inventory(instruction, work.Now),
            OpenOrderRef = work.Ledger.OpenOrderFor(instruction.Ref)?.Ref,
        };
    }
}

/// <summary>Creates an instruction (optionally tracked, optionally paired).</summary>
/// <param name="AccountId">The household.</param>
/// <param name="Spec">What to order and how to track it.</param>
public sealed record CreateInstruction(string AccountId, InstructionSpec Spec) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.CreateInstruction(AccountId, Spec, work.NextRef, work.Now), i => View(work, i));
    }
}

/// <summary>Pairs a device of the household with an instruction.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="DeviceId">The device.</param>
public sealed record PairDevice(string AccountId, long InstructionRef, string DeviceId) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.Pair(AccountId, InstructionRef, DeviceId), i => View(work, i));
    }
}

/// <summary>Sets the user's trigger point and tracking settings (tracking starts if it was off).</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="Spec">The settings.</param>
public sealed record ConfigureTracking(string AccountId, long InstructionRef, TrackingSpec Spec) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.ConfigureTracking(AccountId, InstructionRef, Spec, work.Now), i => View(work, i));
    }
}

/// <summary>The household's instructions.</summary>
/// <param name="AccountId">The household.</param>
public sealed record ListInstructions(string AccountId) : SetupCommand<IReadOnlyList<InstructionView>>
{
    /// <inheritdoc/>
    public override SetupResult<IReadOnlyList<InstructionView>> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.Ok<IReadOnlyList<InstructionView>>(work.Ledger.InstructionsOf(AccountId).Select(i => View(work, i)).ToList());
    }
}

/// <summary>A household's move of an open order: cancel (until it ships; 202 while the cancel is forwarded to a
/// retailer that may already hold it) or mark it received; delivery of a tracked item raises its level.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="OrderRef">The order.</param>
/// <param name="State">The state to move to.</param>
/// <param name="MovedBy">Who moves it (recorded on the order's history).</param>
public sealed record MoveOrder(string AccountId, long OrderRef, OrderState State, string MovedBy) : SetupCommand<OrderStatus>
{
    /// <inheritdoc/>
    public override SetupResult<OrderStatus> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var moved = work.Ledger.MoveOrder(AccountId, OrderRef, State, MovedBy, work.Now);
        return moved.Outcome switch
        {
            OrderMoveOutcome.NotOpen => SetupResult.Fail<OrderStatus>(StatusCodes.Status404NotFound, "no open order with this ref in this account"),
            OrderMoveOutcome.NotAllowed => SetupResult.Fail<OrderStatus>(StatusCodes.Status409Conflict, State == OrderState.Delivered
                ? $"an order that is {moved.Order!.State} cannot be marked Delivered: a household marks an order received once it is Confirmed or Shipped"
                : $"an order that is {moved.Order!.State} cannot become {State}: a household may cancel an order only until it ships"),
            OrderMoveOutcome.NotHousehold => SetupResult.Fail<OrderStatus>(StatusCodes.Status422UnprocessableEntity, $"{State} is reported by the retailer, not set by a household: a household may only cancel an order (until it ships) or mark it Delivered (once Confirmed or Shipped)"),
            OrderMoveOutcome.CancelRequested => SetupResult.Ok(ContractViews.Order(moved.Order!), StatusCodes.Status202Accepted),
            _ => SetupResult.Ok(ContractViews.Order(moved.Order!)),
        };
    }
}

/// <summary>One instruction of the household.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
public sealed record GetInstruction(string AccountId, long InstructionRef) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.InstructionOf(AccountId, InstructionRef) is { } instruction
            ? SetupResult.Ok(View(work, instruction))
            : SetupResult.Fail<InstructionView>(StatusCodes.Status404NotFound, "unknown instruction");
    }
}

/// <summary>Changes an instruction's product, retailer or quantity; the next order uses them.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="Update">The fields to change.</param>
public sealed record UpdateInstruction(string AccountId, long InstructionRef, InstructionUpdate Update) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.UpdateInstruction(AccountId, InstructionRef, Update.Product, Update.Retailer, Update.Quantity), i => View(work, i));
    }
}

/// <summary>Deletes an instruction; its orders stay.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
public sealed record DeleteInstruction(string AccountId, long InstructionRef) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.DeleteInstruction(AccountId, InstructionRef), i => new InstructionView { InstructionRef = i.Ref, Product = i.Product, Retailer = i.Retailer, Quantity = i.Quantity });
    }
}

/// <summary>Unpairs a device from an instruction.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="DeviceId">The device.</param>
public sealed record UnpairDevice(string AccountId, long InstructionRef, string DeviceId) : SetupCommand<InstructionView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.Unpair(AccountId, InstructionRef, DeviceId), i => View(work, i));
    }
}
