namespace Pantri.Iot.Gateway.Storage;

/// <summary>A stored command's idempotency key hash, sequence and time, as <see cref="CommandKeyIndex"/> keeps it.</summary>
internal readonly record struct KeyPair(long Hash, long Sequence, long AtTicks);
