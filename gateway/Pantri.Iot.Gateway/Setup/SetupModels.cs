using System.Text.Json.Serialization;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>Body of <c>POST /v1/instructions</c>. Only its JSON shape is checked at the HTTP edge; what the values may
/// be is decided once, in the domain (<see cref="InstructionSpec.Validate"/>).</summary>
public sealed record NewInstruction
{
    /// <summary>Product to order.</summary>
    public string Product { get; init; } = string.Empty;

    /// <summary>Retailer to order from.</summary>
    public string Retailer { get; init; } = string.Empty;

    /// <summary>How many to order.</summary>
    public int Quantity { get; init; } = 1;

    /// <summary>Devices to pair now.</summary>
    public IReadOnlyList<string> DeviceIds { get; init; } = [];

    /// <summary>Tracking settings, to track its inventory.</summary>
    public TrackingSettings? Tracking { get; init; }

    /// <summary>The domain's view of this body.</summary>
    public InstructionSpec ToSpec() => new(Product, Retailer, Quantity, DeviceIds, Tracking?.ToSpec());
}

/// <summary>Body of <c>PUT /v1/instructions/{ref}/tracking</c>: the user's trigger point and how to read levels.
/// Validated in the domain (<see cref="TrackingSpec.Validate"/>).</summary>
public sealed record TrackingSettings
{
    /// <summary>Trigger point: reaching it orders.</summary>
    public double ReorderAt { get; init; }

    /// <summary>count, g, ml, percent…</summary>
    public string Unit { get; init; } = "count";

    /// <summary>Units one pack adds on delivery.</summary>
    public double? UnitsPerPack { get; init; }

    /// <summary>Band above the trigger point the level must leave before re-arming.</summary>
    public double Hysteresis { get; init; }

    /// <summary>Consecutive low readings before ordering.</summary>
    public int Debounce { get; init; } = 1;

    /// <summary>Sets the current level (optional).</summary>
    public double? Level { get; init; }

    /// <summary>The domain's view of these settings.</summary>
    public TrackingSpec ToSpec() => new(ReorderAt, Unit, UnitsPerPack, Hysteresis, Debounce, Level);
}

/// <summary>Body of <c>POST /v1/orders/{ref}/state</c>.</summary>
public sealed record OrderStateChange
{
    /// <summary>Cancelled (until it ships) or Delivered (received, once Confirmed or Shipped): the household's moves.</summary>
    public string State { get; init; } = string.Empty;
}

/// <summary>An instruction as the setup API shows it.</summary>
public sealed record InstructionView
{
    /// <summary>Its ref.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public long InstructionRef { get; init; }

    /// <summary>Product.</summary>
    public string Product { get; init; } = string.Empty;

    /// <summary>Retailer.</summary>
    public string Retailer { get; init; } = string.Empty;

    /// <summary>Quantity.</summary>
    public int Quantity { get; init; }

    /// <summary>Paired devices.</summary>
    public IReadOnlyList<string> DeviceIds { get; init; } = [];

    /// <summary>Inventory, when tracked.</summary>
    public InventoryStatus? Inventory { get; init; }

    /// <summary>The open order, if any.</summary>
    public long? OpenOrderRef { get; init; }
}

/// <summary>What a setup call did.</summary>
/// <typeparam name="T">What the call answers.</typeparam>
/// <param name="Status">HTTP status.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Value">The result.</param>
/// <param name="Field">For a 400, the request field that was refused.</param>
public sealed record SetupResult<T>(int Status, string? Error, T? Value, string? Field = null);

/// <summary>Builds <see cref="SetupResult{T}"/>s.</summary>
public static class SetupResult
{
    /// <summary>A success.</summary>
    public static SetupResult<T> Ok<T>(T value, int status = StatusCodes.Status200OK) => new(status, null, value);

    /// <summary>A failure.</summary>
    public static SetupResult<T> Fail<T>(int status, string error) => new(status, error, default);

    /// <summary>The result of a ledger change, its entity shown as <paramref name="view"/> says.</summary>
    public static SetupResult<T> From<TEntity, T>(LedgerOutcome<TEntity> outcome, Func<TEntity, T> view)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(view);
        return outcome.IsSuccess ? Ok(view(outcome.Value!), outcome.Status) : new SetupResult<T>(outcome.Status, outcome.Error!, default, outcome.Field);
    }
}
