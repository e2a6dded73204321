using System.Globalization;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>What a household asks for when it creates an instruction. <see cref="Validate"/> is the one check of it,
/// whatever the entry (setup API, demo household); the ledger refuses an invalid spec before changing anything.</summary>
/// <param name="Product">Product to order: 1–200 characters, not only spaces, no control characters.</param>
/// <param name="Retailer">Retailer to order from: as <paramref name="Product"/>.</param>
/// <param name="Quantity">How many to order: 1–10,000.</param>
/// <param name="DeviceIds">Devices of the household to pair now: at most 32, each a valid DeviceId.</param>
/// <param name="Tracking">Tracking settings, to track its inventory.</param>
public sealed record InstructionSpec(string Product, string Retailer, int Quantity, IReadOnlyList<string> DeviceIds, TrackingSpec? Tracking)
{
    /// <summary>Longest product or retailer name.</summary>
    public const int MaxTextLength = 200;

    /// <summary>Largest quantity one order may ask for.</summary>
    public const int MaxQuantity = 10_000;

    /// <summary>Most devices one instruction may be paired with at creation.</summary>
    public const int MaxDevices = 32;

    /// <summary>The first field that is not acceptable, or null when the spec is valid. Checks every field, every
    /// list element and the nested tracking settings.</summary>
    public FieldError? Validate() =>
        SpecRules.Text(Product, nameof(Product), MaxTextLength)
        ?? SpecRules.Text(Retailer, nameof(Retailer), MaxTextLength)
        ?? SpecRules.Whole(Quantity, nameof(Quantity), 1, MaxQuantity)
        ?? ValidateDeviceIds()
        ?? Tracking?.Validate(nameof(Tracking) + ".");

    private FieldError? ValidateDeviceIds()
    {
        if (DeviceIds is null)
        {
            return new FieldError(nameof(DeviceIds), "DeviceIds must be a list (it may be empty)");
        }

        if (DeviceIds.Count > MaxDevices)
        {
            return new FieldError(nameof(DeviceIds), string.Create(CultureInfo.InvariantCulture, $"at most {MaxDevices} devices"));
        }

        for (var i = 0; i < DeviceIds.Count; i++)
        {
            if (!Contract.DeviceIds.IsValid(DeviceIds[i]))
            {
                return new FieldError(
                    string.Create(CultureInfo.InvariantCulture, $"{nameof(DeviceIds)}[{i}]"),
                    "must be a DeviceId matching ^[a-z0-9][a-z0-9-]{2,63}$");
            }
        }

        return null;
    }
}

/// <summary>The user's trigger point and how levels are read. Amounts are finite numbers from 0 to
/// <see cref="DeviceRequestParser.MaxQuantity"/>, the same bound a device's level report has.</summary>
/// <param name="ReorderAt">Trigger point: reaching it orders.</param>
/// <param name="Unit">count, g, ml, percent…: 1–32 characters, no control characters.</param>
/// <param name="UnitsPerPack">Units one pack adds on delivery.</param>
/// <param name="Hysteresis">Band above the trigger point the level must leave before re-arming.</param>
/// <param name="Debounce">Consecutive low readings before ordering: 1–100.</param>
/// <param name="Level">The current level, when the user sets it.</param>
public sealed record TrackingSpec(double ReorderAt, string Unit, double? UnitsPerPack, double Hysteresis, int Debounce, double? Level)
{
    /// <summary>Longest unit name.</summary>
    public const int MaxUnitLength = 32;

    /// <summary>Most consecutive low readings that may be required.</summary>
    public const int MaxDebounce = 100;

    /// <summary>The first field that is not acceptable, or null when the settings are valid.</summary>
    /// <param name="prefix">Prepended to the field name (<c>Tracking.</c> when nested in an instruction).</param>
    public FieldError? Validate(string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return SpecRules.Amount(ReorderAt, prefix + nameof(ReorderAt))
            ?? SpecRules.Text(Unit, prefix + nameof(Unit), MaxUnitLength)
            ?? (UnitsPerPack is { } perPack ? SpecRules.Amount(perPack, prefix + nameof(UnitsPerPack)) : null)
            ?? SpecRules.Amount(Hysteresis, prefix + nameof(Hysteresis))
            ?? SpecRules.Whole(Debounce, prefix + nameof(Debounce), 1, MaxDebounce)
            ?? (Level is { } level ? SpecRules.Amount(level, prefix + nameof(Level)) : null);
    }
}

/// <summary>The rules the specs share.</summary>
internal static class SpecRules
{
    private static readonly string AmountRange = "must be a finite number from 0 to " + DeviceRequestParser.MaxQuantity.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>True for a level, usage or setting the ledger may store: finite, 0 to the contract's maximum.</summary>
    public static bool IsAmount(double value) => double.IsFinite(value) && value is >= 0 and <= DeviceRequestParser.MaxQuantity;

    public static FieldError? Amount(double value, string field) => IsAmount(value) ? null : new FieldError(field, AmountRange);

    public static FieldError? Whole(int value, string field, int min, int max) =>
        value >= min && value <= max ? null : new FieldError(field, string.Create(CultureInfo.InvariantCulture, $"must be from {min} to {max}"));

    public static FieldError? Text(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return new FieldError(field, "is required");
        }

        if (value.Length > maxLength)
        {
            return new FieldError(field, string.Create(CultureInfo.InvariantCulture, $"must be at most {maxLength} characters"));
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return new FieldError(field, "must not contain control characters");
            }
        }

        return null;
    }
}
