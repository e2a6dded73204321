namespace Pantri.Iot.Domain;

/// <summary>A household's own limits on what its devices may order: approval by default, a pause, and a monthly
/// spend limit, with what it spent in the current month. Kept apart from the household's identity (users, devices),
/// one document per household that set any of them. Amounts are decimals in <see cref="Currency"/>, never floating
/// point.</summary>
public sealed class HouseholdSafeguards
{
    /// <summary>The household (the document id).</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>New orders wait for the household's approval unless an instruction says otherwise.</summary>
    public bool ApprovalRequired { get; set; }

    /// <summary>Nothing is ordered for the household before this time (holidays).</summary>
    public DateTimeOffset? PausedUntil { get; set; }

    /// <summary>The most the household spends in a calendar month (UTC), or null for no limit.</summary>
    public decimal? MonthlySpendLimit { get; set; }

    /// <summary>ISO 4217 code of every amount of the household (limit, price guards, spending).</summary>
    public string Currency { get; set; } = "EUR";

    /// <summary>The month <see cref="Spent"/> counts ("yyyy-MM", UTC).</summary>
    public string? SpendMonth { get; set; }

    /// <summary>What the household's orders of <see cref="SpendMonth"/> count against the limit: each order's
    /// confirmed price, or until it is confirmed its price guard × quantity; cancelled, rejected and failed orders
    /// are taken out again.</summary>
    public decimal Spent { get; set; }
}

/// <summary>What a household asks for in <c>PUT /v1/safeguards</c>.</summary>
/// <param name="ApprovalRequired">Orders wait for approval by default.</param>
/// <param name="PausedUntil">Pause ordering until then (null: not paused).</param>
/// <param name="MonthlySpendLimit">Most spent per calendar month (null: no limit).</param>
/// <param name="Currency">ISO 4217 code, three capital letters (default EUR).</param>
public sealed record HouseholdSafeguardsSpec(bool ApprovalRequired, DateTimeOffset? PausedUntil, decimal? MonthlySpendLimit, string? Currency)
{
    /// <summary>The first unacceptable field at <paramref name="now"/>, or null.</summary>
    public FieldError? Validate(DateTimeOffset now) =>
        SafeguardRules.Amount(MonthlySpendLimit, nameof(MonthlySpendLimit))
        ?? (Currency is null || SafeguardRules.IsCurrency(Currency) ? null : new FieldError(nameof(Currency), "must be an ISO 4217 code: three capital letters"))
        ?? SafeguardRules.Pause(PausedUntil, nameof(PausedUntil), now);
}

/// <summary>What a household asks for in <c>PUT /v1/instructions/{ref}/safeguards</c>.</summary>
/// <param name="ApprovalRequired">True/false overrides the household's default; null follows it.</param>
/// <param name="PausedUntil">Pause this instruction until then (null: not paused).</param>
/// <param name="MaxUnitPrice">Price guard: the most one unit may cost, in the household's currency (null: none).</param>
public sealed record InstructionSafeguardsSpec(bool? ApprovalRequired, DateTimeOffset? PausedUntil, decimal? MaxUnitPrice)
{
    /// <summary>The first unacceptable field at <paramref name="now"/>, or null.</summary>
    public FieldError? Validate(DateTimeOffset now) =>
        SafeguardRules.Amount(MaxUnitPrice, nameof(MaxUnitPrice)) ?? SafeguardRules.Pause(PausedUntil, nameof(PausedUntil), now);
}

/// <summary>The rules safeguard settings share.</summary>
public static class SafeguardRules
{
    /// <summary>Largest amount a limit or a price guard may be.</summary>
    public const decimal MaxAmount = 1_000_000m;

    /// <summary>Longest pause.</summary>
    public static readonly TimeSpan MaxPause = TimeSpan.FromDays(366);

    /// <summary>True for three capital ASCII letters.</summary>
    public static bool IsCurrency(string? value) => value is { Length: 3 } && value.All(c => c is >= 'A' and <= 'Z');

    /// <summary>The calendar month (UTC) an amount spent at <paramref name="at"/> counts in.</summary>
    public static string MonthOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An amount as the household reads it: "60.00 EUR".</summary>
    public static string Format(decimal amount, string currency) =>
        amount.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " " + currency;

    internal static FieldError? Amount(decimal? value, string field) =>
        value is not { } amount || (amount >= 0 && amount <= MaxAmount && decimal.Round(amount, 2) == amount)
            ? null
            : new FieldError(field, "must be an amount from 0 to 1000000 with at most 2 decimals");

    // A pause far in the future is a typo, not a holiday; a past one is harmless (it is simply over).
    internal static FieldError? Pause(DateTimeOffset? value, string field, DateTimeOffset now) =>
        value is { } until && until > now + MaxPause ? new FieldError(field, "must be at most 366 days ahead") : null;
}
