namespace Pantri.Iot.Domain;

/// <summary>What a household asks for when it creates an instruction.</summary>
/// <param name="Product">Product to order.</param>
/// <param name="Retailer">Retailer to order from.</param>
/// <param name="Quantity">How many to order.</param>
/// <param name="DeviceIds">Devices of the household to pair now.</param>
/// <param name="Tracking">Tracking settings, to track its inventory.</param>
public sealed record InstructionSpec(string Product, string Retailer, int Quantity, IReadOnlyList<string> DeviceIds, TrackingSpec? Tracking);

/// <summary>The user's trigger point and how levels are read.</summary>
/// <param name="ReorderAt">Trigger point: reaching it orders.</param>
/// <param name="Unit">count, g, ml, percent…</param>
/// <param name="UnitsPerPack">Units one pack adds on delivery.</param>
/// <param name="Hysteresis">Band above the trigger point the level must leave before re-arming.</param>
/// <param name="Debounce">Consecutive low readings before ordering.</param>
/// <param name="Level">The current level, when the user sets it.</param>
public sealed record TrackingSpec(double ReorderAt, string Unit, double? UnitsPerPack, double Hysteresis, int Debounce, double? Level);
