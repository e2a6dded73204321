using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>Household safeguards: approval, pause, monthly spend limit and the price guard. Checked here, on the one
/// writer, so two presses racing for the last of a month's budget are decided one after the other.</summary>
public sealed partial class ReplenishmentLedger
{
    private const string HouseholdCancel = "cancelled at the household's request";

    /// <summary>The household's safeguards, when it set any.</summary>
    public HouseholdSafeguards? SafeguardsOf(string accountId) => _safeguards.GetValueOrDefault(accountId);

    /// <summary>Sets a household's safeguards (approval by default, pause, monthly spend limit and currency).</summary>
    public LedgerOutcome<HouseholdSafeguards> ConfigureSafeguards(string accountId, HouseholdSafeguardsSpec? spec, DateTimeOffset now)
    {
        if (spec is null)
        {
            return LedgerOutcome.Invalid<HouseholdSafeguards>(MissingBody);
        }

        if (spec.Validate(now) is { } invalid)
        {
            return LedgerOutcome.Invalid<HouseholdSafeguards>(invalid);
        }

        var safeguards = _safeguards.GetValueOrDefault(accountId);
        var currency = spec.Currency ?? safeguards?.Currency ?? "EUR";
        if (safeguards is not null && currency != safeguards.Currency && SpentIn(safeguards, now) != 0)
        {
            return LedgerOutcome.Refused<HouseholdSafeguards>(AckIds.Conflict, $"this month's spending is counted in {safeguards.Currency}; the currency can change once a month starts with nothing spent");
        }

        if (safeguards is null)
        {
            safeguards = new HouseholdSafeguards { AccountId = accountId };
            _journal.Added(safeguards);
            _safeguards[accountId] = safeguards;
        }
        else
        {
            _journal.Touch(safeguards);
        }

        safeguards.ApprovalRequired = spec.ApprovalRequired;
        safeguards.PausedUntil = spec.PausedUntil;
        safeguards.MonthlySpendLimit = spec.MonthlySpendLimit;
        safeguards.Currency = currency;
        RollMonth(safeguards, now);
        Changed(safeguards);
        return LedgerOutcome.Done(safeguards);
    }

    /// <summary>Sets an instruction's safeguards (approval, pause, price guard).</summary>
    public LedgerOutcome<Instruction> ConfigureInstructionSafeguards(string accountId, long instructionRef, InstructionSafeguardsSpec? spec, DateTimeOffset now)
    {
        if (spec is null)
        {
            return LedgerOutcome.Invalid<Instruction>(MissingBody);
        }

        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "no instruction with this ref in this account");
        }

        if (spec.Validate(now) is { } invalid)
        {
            return LedgerOutcome.Invalid<Instruction>(invalid);
        }

        _journal.Touch(instruction);
        instruction.ApprovalRequired = spec.ApprovalRequired;
        instruction.PausedUntil = spec.PausedUntil;
        instruction.MaxUnitPrice = spec.MaxUnitPrice;
        Changed(instruction);
        return LedgerOutcome.Done(instruction);
    }

    /// <summary>The household approves an order awaiting approval: it is Placed and goes to its retailer.</summary>
    public OrderMoveResult Approve(string accountId, long orderRef, string by, DateTimeOffset now) =>
        Answer(accountId, orderRef, OrderState.Placed, by, "approved by the household", now);

    /// <summary>The household declines an order awaiting approval: it is Cancelled and never sent.</summary>
    public OrderMoveResult Decline(string accountId, long orderRef, string by, DateTimeOffset now) =>
        Answer(accountId, orderRef, OrderState.Cancelled, by, "declined by the household", now);

    /// <summary>Cancels (reason "approval expired") up to <paramref name="limit"/> orders that waited for approval
    /// longer than <paramref name="timeout"/>; returns how many.</summary>
    public int ExpireApprovals(TimeSpan timeout, DateTimeOffset now, int limit)
    {
        var expired = _openOrders.Values
            .Where(o => o.State == OrderState.AwaitingApproval && o.CreatedAt + timeout <= now)
            .Take(limit)
            .ToList();
        foreach (var order in expired)
        {
            Move(order, OrderState.Cancelled, OrderSources.Gateway, "gateway", "approval expired", now);
        }

        return expired.Count;
    }

    /// <summary>What the household spent in the month of <paramref name="now"/>.</summary>
    public static decimal SpentIn(HouseholdSafeguards safeguards, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(safeguards);
        return safeguards.SpendMonth == SafeguardRules.MonthOf(now) ? safeguards.Spent : 0m;
    }

    private OrderMoveResult Answer(string accountId, long orderRef, OrderState to, string by, string reason, DateTimeOffset now)
    {
        if (!_openOrders.TryGetValue(orderRef, out var order) || order.AccountId != accountId)
        {
            return new OrderMoveResult(OrderMoveOutcome.NotOpen, null, null);
        }

        return order.State == OrderState.AwaitingApproval
            ? Move(order, to, OrderSources.Household, by, reason, now)
            : new OrderMoveResult(OrderMoveOutcome.NotAllowed, order, null);
    }

    // A pause (the later of the instruction's and the household's) answers 423; an order that would take the
    // household past its monthly limit, or any order once it is reached, 422. Null: the order may be placed, counting
    // <paramref name="amount"/> against the limit (null when the household has none).
    private LedgerResult? Safeguard(Instruction instruction, DateTimeOffset now, out decimal? amount)
    {
        amount = null;
        var household = _safeguards.GetValueOrDefault(instruction.AccountId);
        var until = Later(instruction.PausedUntil, household?.PausedUntil);
        if (until > now)
        {
            return LedgerResult.Refused(AckIds.Paused, "paused until " + until.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), instruction);
        }

        if (household?.MonthlySpendLimit is not { } limit)
        {
            return null;
        }

        // Until the retailer quotes a price, an order counts at its price guard (the most it may cost); without a
        // guard, at nothing until it is confirmed.
        var reserve = (instruction.MaxUnitPrice ?? 0m) * instruction.Quantity;
        var spent = SpentIn(household, now);
        if (spent >= limit || spent + reserve > limit)
        {
            return LedgerResult.Refused(
                AckIds.SpendLimitReached,
                $"monthly spend limit of {SafeguardRules.Format(limit, household.Currency)} reached ({spent.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)} spent)",
                instruction);
        }

        amount = reserve;
        return null;
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    // The state a new order starts in, and what it counts against the limit.
    private OrderState Admit(Instruction instruction, Order order, decimal? amount, DateTimeOffset now)
    {
        var household = _safeguards.GetValueOrDefault(instruction.AccountId);
        if (amount is { } counted && household is not null)
        {
            _journal.Touch(household);
            RollMonth(household, now);
            household.Spent += counted;
            order.Amount = counted;
            order.Currency = household.Currency;
            order.SpendMonth = household.SpendMonth;
            Changed(household);
        }

        return instruction.ApprovalRequired ?? household?.ApprovalRequired ?? false ? OrderState.AwaitingApproval : OrderState.Placed;
    }

    // A closed order that did not go through gives back what it counted, if it counted in the current month.
    private void Release(Order order)
    {
        if (order.Amount is { } amount && amount != 0
            && order.State is OrderState.Cancelled or OrderState.Rejected or OrderState.Failed
            && _safeguards.TryGetValue(order.AccountId, out var household) && household.SpendMonth == order.SpendMonth)
        {
            _journal.Touch(household);
            household.Spent -= amount;
            Changed(household);
        }
    }

    // The retailer's quote on confirmation: the order counts at its price from now on, and a price above the
    // instruction's guard (or in another currency) has the gateway cancel the order at the retailer.
    private void Quote(Order order, decimal unitPrice, string currency, string? guardBreach, DateTimeOffset now)
    {
        order.UnitPrice = unitPrice;
        order.Currency ??= currency;
        var household = _safeguards.GetValueOrDefault(order.AccountId);
        var householdCurrency = household?.Currency ?? "EUR";
        var price = unitPrice * order.Quantity;
        if (household is not null && order.Amount is { } counted && household.SpendMonth == order.SpendMonth && currency == householdCurrency)
        {
            _journal.Touch(household);
            household.Spent += price - counted;
            order.Amount = price;
            Changed(household);
        }

        if (guardBreach is not null)
        {
            order.CancelRequestedAt = now;
            order.CancelRefusal = null;
            order.CancelReason = guardBreach;
        }
    }

    // Why a quote breaks the instruction's price guard (above it, or in another currency than the household's), or null.
    private string? PriceGuardBreach(Order order, decimal unitPrice, string currency)
    {
        var householdCurrency = _safeguards.GetValueOrDefault(order.AccountId)?.Currency ?? "EUR";
        return _instructions.TryGetValue(order.InstructionRef, out var instruction) && instruction.MaxUnitPrice is { } guard
            && (currency != householdCurrency || unitPrice > guard)
            ? $"price guard: the retailer quoted {SafeguardRules.Format(unitPrice, currency)} per unit, above the limit of {SafeguardRules.Format(guard, householdCurrency)}"
            : null;
    }

    private string CurrencyOf(string accountId) => _safeguards.GetValueOrDefault(accountId)?.Currency ?? "EUR";

    private static void RollMonth(HouseholdSafeguards safeguards, DateTimeOffset now)
    {
        var month = SafeguardRules.MonthOf(now);
        if (safeguards.SpendMonth != month)
        {
            safeguards.SpendMonth = month;
            safeguards.Spent = 0m;
        }
    }

    /// <summary>Most fallback retailers an instruction may list.</summary>
    public const int MaxFallbacks = 4;

    /// <summary>Sets the retailers an instruction falls back on, in order, each with its product reference.</summary>
    public LedgerOutcome<Instruction> ConfigureFallbacks(string accountId, long instructionRef, IReadOnlyList<RetailerChoice>? fallbacks)
    {
        if (fallbacks is null)
        {
            return LedgerOutcome.Invalid<Instruction>(new FieldError("Fallbacks", "Fallbacks must be a list (it may be empty)"));
        }

        if (InstructionOf(accountId, instructionRef) is not { } instruction)
        {
            return LedgerOutcome.Refused<Instruction>(AckIds.UnknownInstruction, "no instruction with this ref in this account");
        }

        if (fallbacks.Count > MaxFallbacks)
        {
            return LedgerOutcome.Invalid<Instruction>(new FieldError("Fallbacks", $"at most {MaxFallbacks} fallback retailers"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { instruction.Retailer };
        for (var i = 0; i < fallbacks.Count; i++)
        {
            var field = $"Fallbacks[{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}]";
            if (fallbacks[i] is not { } choice)
            {
                return LedgerOutcome.Invalid<Instruction>(new FieldError(field, "must be an object with Retailer and Product"));
            }

            if ((SpecRules.Text(choice.Retailer, field + ".Retailer", InstructionSpec.MaxTextLength) ?? SpecRules.Text(choice.Product, field + ".Product", InstructionSpec.MaxTextLength)) is { } invalid)
            {
                return LedgerOutcome.Invalid<Instruction>(invalid);
            }

            if (!seen.Add(choice.Retailer))
            {
                return LedgerOutcome.Invalid<Instruction>(new FieldError(field + ".Retailer", "names a retailer already in the list (or the instruction's own)"));
            }
        }

        _journal.Touch(instruction);
        instruction.Fallbacks = fallbacks.Select(f => new RetailerChoice { Retailer = f.Retailer, Product = f.Product }).ToList();
        Changed(instruction);
        return LedgerOutcome.Done(instruction);
    }

    // The retailer after the order's current one, unless the household asked to cancel (then a rejection just ends it).
    private RetailerChoice? NextRetailer(Order order) =>
        order.CancelRequestedAt is null && _instructions.TryGetValue(order.InstructionRef, out var instruction) && order.RetailerIndex < instruction.Fallbacks.Count
            ? instruction.Fallbacks[order.RetailerIndex]
            : null;

    // A definite rejection with a retailer left to try: the rejection is recorded, and the order is Placed again with the
    // next retailer and its product, queued for it (the outbox entry follows the order in the same commit) under that
    // retailer's own idempotency key. Nothing was ever sent to the next retailer before: a retailer only gets an order
    // the one before it rejected.
    private OrderMoveResult FallBack(Order order, RetailerChoice next, string? reason, DateTimeOffset now)
    {
        _journal.Touch(order, open: true);
        var rejectedBy = order.Retailer;
        order.History.Add(new OrderTransition { State = OrderState.Rejected, At = now, By = rejectedBy, Source = OrderSources.Retailer, Reason = reason });
        order.RetailerIndex++;
        order.Retailer = next.Retailer;
        order.Product = next.Product;
        order.State = OrderState.Placed;
        order.SentAt = null;
        order.UpdatedAt = now;
        order.History.Add(new OrderTransition { State = OrderState.Placed, At = now, By = "gateway", Source = OrderSources.Gateway, Reason = $"{rejectedBy} rejected it; falling back to {next.Retailer}" });
        Changed(order);
        return new OrderMoveResult(OrderMoveOutcome.Moved, order, null);
    }

    /// <summary>Longest webhook URL.</summary>
    public const int MaxWebhookUrlLength = 2000;

    /// <summary>Sets (or, with a null <paramref name="url"/>, removes) the household's event webhook and its signing
    /// secret. The URL must be absolute http(s) without user info; where it may point is the gateway's to enforce
    /// when it sends (private networks are refused unless configured).</summary>
    public LedgerOutcome<HouseholdSafeguards> ConfigureWebhook(string accountId, string? url, string secret)
    {
        if (url is not null && (url.Length > MaxWebhookUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0 || url.Any(char.IsControl)))
        {
            return LedgerOutcome.Invalid<HouseholdSafeguards>(new FieldError("Url", "must be an absolute http(s) URL without user info, at most 2000 characters"));
        }

        var safeguards = _safeguards.GetValueOrDefault(accountId);
        if (safeguards is null)
        {
            safeguards = new HouseholdSafeguards { AccountId = accountId };
            _journal.Added(safeguards);
            _safeguards[accountId] = safeguards;
        }
        else
        {
            _journal.Touch(safeguards);
        }

        safeguards.WebhookUrl = url;
        safeguards.WebhookSecret = url is null ? null : secret;
        Changed(safeguards);
        return LedgerOutcome.Done(safeguards);
    }
}
