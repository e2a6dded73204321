namespace Pantri.Iot.Contract;

/// <summary>A request from a device's <c>trigger</c>, <c>level</c> or <c>usage</c> topic (or the HTTP trigger),
/// already checked against the contract: each kind is its own type, so a level report cannot lack its level.</summary>
public abstract record DeviceRequest
{
    /// <summary>The device's idempotency key, or null; never empty, never longer than
    /// <see cref="RequestIds.MaxLength"/>.</summary>
    public string? RequestId { get; init; }

    /// <summary>The topic the request belongs to.</summary>
    public abstract DeviceTopicKind Kind { get; }

    /// <summary>The Instruction_Ref the request names, if any; echoed in the ack whatever the outcome.</summary>
    public abstract long? NamedInstructionRef { get; }
}

/// <summary>Re-order an instruction now.</summary>
/// <param name="InstructionRef">The instruction, or null for the device's only paired instruction.</param>
public sealed record TriggerRequest(long? InstructionRef) : DeviceRequest
{
    /// <inheritdoc/>
    public override DeviceTopicKind Kind => DeviceTopicKind.Trigger;

    /// <inheritdoc/>
    public override long? NamedInstructionRef => InstructionRef;
}

/// <summary>The absolute level of a tracked instruction, in the instruction's unit.</summary>
/// <param name="InstructionRef">The tracked instruction.</param>
/// <param name="Level">Finite, between 0 and <see cref="DeviceRequestParser.MaxQuantity"/>.</param>
public sealed record LevelReport(long InstructionRef, double Level) : DeviceRequest
{
    /// <inheritdoc/>
    public override DeviceTopicKind Kind => DeviceTopicKind.Level;

    /// <inheritdoc/>
    public override long? NamedInstructionRef => InstructionRef;
}

/// <summary>Units taken from a tracked instruction since the last report.</summary>
/// <param name="InstructionRef">The tracked instruction.</param>
/// <param name="Used">Finite, between 0 and <see cref="DeviceRequestParser.MaxQuantity"/>; 1 when the payload
/// leaves it out.</param>
public sealed record UsageReport(long InstructionRef, double Used) : DeviceRequest
{
    /// <inheritdoc/>
    public override DeviceTopicKind Kind => DeviceTopicKind.Usage;

    /// <inheritdoc/>
    public override long? NamedInstructionRef => InstructionRef;
}

/// <summary>Why a payload was refused, with whatever could still be read from it for the error ack.</summary>
/// <param name="Reason">What was wrong, worded for the ack's <c>Didn't do - …</c> status.</param>
/// <param name="RequestId">The payload's RequestId when one satisfying <see cref="RequestIds"/> could be read, so the
/// device can match the error ack to its request.</param>
/// <param name="InstructionRef">The Instruction_Ref read before the error, or null.</param>
public sealed record MalformedRequest(string Reason, string? RequestId, long? InstructionRef);
