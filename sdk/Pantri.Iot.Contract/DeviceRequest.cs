namespace Pantri.Iot.Contract;

/// <summary>A parsed request from a device's trigger, level or usage topic (or the HTTP trigger).</summary>
/// <param name="Kind">Which topic it came from.</param>
/// <param name="InstructionRef">The instruction, or null for "the device's only instruction".</param>
/// <param name="RequestId">The device's idempotency key, if any.</param>
/// <param name="Value">Level (for level reports) or units used (for usage reports).</param>
public sealed record DeviceRequest(DeviceTopicKind Kind, long? InstructionRef, string? RequestId, double? Value);
