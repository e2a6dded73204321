using System.Text.Json.Serialization;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>The body of <c>PUT /v1/safeguards</c>: the whole set, replaced.</summary>
public sealed record HouseholdSafeguardsBody
{
    /// <summary>New orders wait for approval unless an instruction says otherwise.</summary>
    public bool ApprovalRequired { get; init; }

    /// <summary>Nothing is ordered before this time (null: not paused).</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>Most spent per calendar month (UTC), a JSON number (null: no limit).</summary>
    public decimal? MonthlySpendLimit { get; init; }

    /// <summary>ISO 4217 code of the household's amounts (default: unchanged, EUR at first).</summary>
    public string? Currency { get; init; }
}

/// <summary>The body of <c>PUT /v1/instructions/{ref}/safeguards</c>: the whole set, replaced.</summary>
public sealed record InstructionSafeguardsBody
{
    /// <summary>True/false overrides the household's approval default; null follows it.</summary>
    public bool? ApprovalRequired { get; init; }

    /// <summary>Nothing is ordered for it before this time (null: not paused).</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>Price guard: most one unit may cost, in the household's currency (null: none).</summary>
    public decimal? MaxUnitPrice { get; init; }
}

/// <summary>The body of <c>PUT /v1/instructions/{ref}/retailers</c>: the fallback retailers, in order (replaced).</summary>
public sealed record FallbacksBody
{
    /// <summary>Retailers to fall back on when the one before definitely rejects, each with its product reference.</summary>
    public IReadOnlyList<Domain.RetailerChoice>? Fallbacks { get; init; }
}

/// <summary>An instruction's retailers as the API shows them: its own, then its fallbacks in order.</summary>
public sealed record RetailersView
{
    /// <summary>The instruction.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public long InstructionRef { get; init; }

    /// <summary>Its own retailer (tried first).</summary>
    public string Retailer { get; init; } = string.Empty;

    /// <summary>Its own product.</summary>
    public string Product { get; init; } = string.Empty;

    /// <summary>The fallbacks, in order.</summary>
    public IReadOnlyList<Domain.RetailerChoice> Fallbacks { get; init; } = [];
}

/// <summary>The body of <c>PUT /v1/events/webhook</c>.</summary>
public sealed record WebhookBody
{
    /// <summary>Where the household's events are POSTed.</summary>
    public string? Url { get; init; }
}

/// <summary>The household's webhook: its URL and, in the answer that set it (only there), the signing secret.</summary>
public sealed record WebhookView
{
    /// <summary>Where events are POSTed (null: none).</summary>
    public string? Url { get; init; }

    /// <summary>The secret that signs each POST (<c>Pantri-Signature</c>, as for retailers); shown once.</summary>
    public string? Secret { get; init; }
}

/// <summary>A household's safeguards as the API shows them, with this month's spending.</summary>
public sealed record SafeguardsView
{
    /// <summary>Orders wait for approval by default.</summary>
    public bool ApprovalRequired { get; init; }

    /// <summary>Paused until then.</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>Monthly limit.</summary>
    public decimal? MonthlySpendLimit { get; init; }

    /// <summary>Currency of every amount.</summary>
    public string Currency { get; init; } = "EUR";

    /// <summary>The calendar month (UTC, "yyyy-MM") <see cref="Spent"/> is for.</summary>
    public string Month { get; init; } = string.Empty;

    /// <summary>What counts against the limit this month (counted while a limit is set).</summary>
    public decimal Spent { get; init; }
}

/// <summary>An instruction's safeguards as the API shows them.</summary>
public sealed record InstructionSafeguardsView
{
    /// <summary>The instruction.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public long InstructionRef { get; init; }

    /// <summary>Approval override (null: the household's default).</summary>
    public bool? ApprovalRequired { get; init; }

    /// <summary>Paused until then.</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>Price guard.</summary>
    public decimal? MaxUnitPrice { get; init; }
}
