using Pantri.Iot.Contract;

namespace Pantri.Iot.Sdk;

/// <summary>One command a device issued: what it asks, and the RequestId that makes resending it harmless.</summary>
/// <param name="Sequence">Its position in this device's queue (increasing, kept across restarts).</param>
/// <param name="Kind"><see cref="DeviceTopicKind.Trigger"/>, <see cref="DeviceTopicKind.Level"/> or
/// <see cref="DeviceTopicKind.Usage"/>.</param>
/// <param name="InstructionRef">The instruction, or null for a trigger of the device's only paired instruction.</param>
/// <param name="Value">The level (level reports) or the units used (usage reports); null for a trigger.</param>
/// <param name="RequestId">The idempotency key sent with every attempt.</param>
/// <param name="QueuedAt">When the command was issued.</param>
public sealed record PantriCommand(
    long Sequence,
    DeviceTopicKind Kind,
    long? InstructionRef,
    double? Value,
    string RequestId,
    DateTimeOffset QueuedAt);
