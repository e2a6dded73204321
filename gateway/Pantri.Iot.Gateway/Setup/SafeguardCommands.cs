using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>Sets a household's safeguards.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="Body">What it asks for.</param>
public sealed record ConfigureSafeguards(string AccountId, HouseholdSafeguardsBody Body) : SetupCommand<SafeguardsView>
{
    /// <inheritdoc/>
    public override SetupResult<SafeguardsView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var spec = new HouseholdSafeguardsSpec(Body.ApprovalRequired, Body.PausedUntil, Body.MonthlySpendLimit, Body.Currency);
        return SetupResult.From(work.Ledger.ConfigureSafeguards(AccountId, spec, work.Now), s => SafeguardViews.Of(s, work.Now));
    }
}

/// <summary>A household's safeguards and this month's spending.</summary>
/// <param name="AccountId">The household.</param>
public sealed record ReadSafeguards(string AccountId) : SetupCommand<SafeguardsView>
{
    /// <inheritdoc/>
    public override SetupResult<SafeguardsView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var safeguards = work.Ledger.SafeguardsOf(AccountId) ?? new HouseholdSafeguards { AccountId = AccountId };
        return SetupResult.Ok(SafeguardViews.Of(safeguards, work.Now));
    }
}

/// <summary>Sets an instruction's safeguards.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="Body">What it asks for.</param>
public sealed record ConfigureInstructionSafeguards(string AccountId, long InstructionRef, InstructionSafeguardsBody Body) : SetupCommand<InstructionSafeguardsView>
{
    /// <inheritdoc/>
    public override SetupResult<InstructionSafeguardsView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var spec = new InstructionSafeguardsSpec(Body.ApprovalRequired, Body.PausedUntil, Body.MaxUnitPrice);
        return SetupResult.From(work.Ledger.ConfigureInstructionSafeguards(AccountId, InstructionRef, spec, work.Now), SafeguardViews.Of);
    }
}

/// <summary>Sets the retailers an instruction falls back on.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="InstructionRef">The instruction.</param>
/// <param name="Body">The fallbacks.</param>
public sealed record ConfigureFallbacks(string AccountId, long InstructionRef, FallbacksBody Body) : SetupCommand<RetailersView>
{
    /// <inheritdoc/>
    public override SetupResult<RetailersView> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return SetupResult.From(work.Ledger.ConfigureFallbacks(AccountId, InstructionRef, Body.Fallbacks), i => new RetailersView
        {
            InstructionRef = i.Ref,
            Retailer = i.Retailer,
            Product = i.Product,
            Fallbacks = i.Fallbacks,
        });
    }
}

/// <summary>The household approves (→ Placed, sent to the retailer) or declines (→ Cancelled) an order awaiting approval.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="OrderRef">The order.</param>
/// <param name="Approved">Approve or decline.</param>
/// <param name="By">Who answers.</param>
public sealed record AnswerApproval(string AccountId, long OrderRef, bool Approved, string By) : SetupCommand<OrderStatus>
{
    /// <inheritdoc/>
    public override SetupResult<OrderStatus> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var moved = Approved
            ? work.Ledger.Approve(AccountId, OrderRef, By, work.Now)
            : work.Ledger.Decline(AccountId, OrderRef, By, work.Now);
        return moved.Outcome switch
        {
            OrderMoveOutcome.NotOpen => SetupResult.Fail<OrderStatus>(StatusCodes.Status404NotFound, "no open order with this ref in this account"),
            OrderMoveOutcome.NotAllowed => SetupResult.Fail<OrderStatus>(StatusCodes.Status409Conflict, $"order {OrderRef} is {moved.Order!.State}: only an order awaiting approval is approved or declined"),
            _ => SetupResult.Ok(ContractViews.Order(moved.Order!)),
        };
    }
}

/// <summary>Cancels orders that waited for approval too long ("approval expired"), a batch at a time.</summary>
/// <param name="Timeout">How long an order may wait.</param>
/// <param name="Limit">Most orders per command.</param>
public sealed record ExpireApprovals(TimeSpan Timeout, int Limit) : IWriterCommand<int>
{
    /// <inheritdoc/>
    public int Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work.Ledger.ExpireApprovals(Timeout, work.Now, Limit);
    }

    /// <summary>Nothing recorded: tried again on the next tick.</summary>
    public int Unavailable(long commandRef) => 0;
}

/// <summary>How the API shows safeguards.</summary>
internal static class SafeguardViews
{
    public static SafeguardsView Of(HouseholdSafeguards safeguards, DateTimeOffset now) => new()
    {
        ApprovalRequired = safeguards.ApprovalRequired,
        PausedUntil = safeguards.PausedUntil,
        MonthlySpendLimit = safeguards.MonthlySpendLimit,
        Currency = safeguards.Currency,
        Month = SafeguardRules.MonthOf(now),
        Spent = ReplenishmentLedger.SpentIn(safeguards, now),
    };

    public static InstructionSafeguardsView Of(Instruction instruction) => new()
    {
        InstructionRef = instruction.Ref,
        ApprovalRequired = instruction.ApprovalRequired,
        PausedUntil = instruction.PausedUntil,
        MaxUnitPrice = instruction.MaxUnitPrice,
    };
}
