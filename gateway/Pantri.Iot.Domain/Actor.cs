namespace Pantri.Iot.Domain;

/// <summary>Who asks: a device of an account, or an app user acting for an account.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="DeviceId">The device, or null for an app user.</param>
/// <param name="Origin">trigger, level, usage or app — recorded on orders.</param>
public sealed record Actor(string AccountId, string? DeviceId, string Origin);
