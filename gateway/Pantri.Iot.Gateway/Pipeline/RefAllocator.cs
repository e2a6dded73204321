using System.Security.Cryptography;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Hands out CommandRefs, OrderRefs and Instruction_Refs: a sequence number run through a keyed
/// permutation of [0, 2^40), so refs are unique, positive, at most 13 digits (a 64-bit integer), and not guessable from their neighbours.
/// Sequence numbers are reserved in blocks; a ref is never handed out twice, even across crashes, because the
/// block is stored before any number in it is used.</summary>
public sealed class RefAllocator
{
    /// <summary>Sequence numbers reserved per storage write.</summary>
    public const long BlockSize = 100_000;

    private readonly RefPermutation _permutation;
    private long _next;
    private long _reservedUpTo;

    /// <summary>Creates the allocator from the stored key and reservation.</summary>
    public RefAllocator(byte[] key, long reservedUpTo)
    {
        _permutation = new RefPermutation(key);

        // Everything below the stored reservation may have been used before a crash: start above it.
        _next = reservedUpTo;
        _reservedUpTo = reservedUpTo;
    }

    /// <summary>The reservation the store must hold before <see cref="Next()"/> may be called again.</summary>
    public long ReservedUpTo => Interlocked.Read(ref _reservedUpTo);

    /// <summary>How many refs can still be handed out under the stored reservation.</summary>
    public long Remaining => Interlocked.Read(ref _reservedUpTo) - Interlocked.Read(ref _next);

    /// <summary>The reservation to store now to cover the next block.</summary>
    public long NextReservation() => Math.Min(Interlocked.Read(ref _next) + BlockSize, RefPermutation.Domain);

    /// <summary>Call once the reservation is stored.</summary>
    public void Reserved(long upTo) => Interlocked.Exchange(ref _reservedUpTo, upTo);

    /// <summary>Leaves the rest of the current block unused and continues above <paramref name="sequence"/> (another
    /// gateway instance sharing the store holds the numbers below it). Call before <see cref="NextReservation"/>.</summary>
    public void SkipTo(long sequence)
    {
        if (sequence > Interlocked.Read(ref _next))
        {
            Interlocked.Exchange(ref _next, sequence);
        }
    }

    /// <summary>The next ref. Thread-safe.</summary>
    public long Next() => Next(out _);

    /// <summary>The next ref and the sequence number behind it. Thread-safe.</summary>
    public long Next(out long sequence)
    {
        sequence = Interlocked.Increment(ref _next);
        if (sequence >= RefPermutation.Domain)
        {
            throw new InvalidOperationException("Reference space exhausted.");
        }

        return _permutation.RefOf(sequence);
    }

    /// <summary>A fresh random key for a new installation.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(32);
}
