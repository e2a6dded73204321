namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>A command's place in the log and the CommandRef devices see for it.</summary>
/// <param name="Sequence">The sequence number (the stored record's key: the log grows in order).</param>
/// <param name="Ref">The CommandRef, the sequence through the keyed permutation.</param>
public readonly record struct CommandId(long Sequence, long Ref);
