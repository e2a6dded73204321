using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Pantri.Iot.Gateway.Processing;

/// <summary>Hands out CommandRefs, OrderRefs and Instruction_Refs: a sequence number run through a keyed
/// permutation of [0, 2^40), so refs are unique, positive, at most 13 digits (a 64-bit integer), and not guessable from their neighbours.
/// Sequence numbers are reserved in blocks; a ref is never handed out twice, even across crashes, because the
/// block is stored before any number in it is used.</summary>
public sealed class RefAllocator
{
    /// <summary>Sequence numbers reserved per storage write.</summary>
    public const long BlockSize = 100_000;

    private const int HalfBits = 20;
    private const ulong HalfMask = (1UL << HalfBits) - 1;
    private const long Domain = 1L << (2 * HalfBits);
    private readonly ulong[] _roundKeys = new ulong[4];
    private long _next;
    private long _reservedUpTo;

    /// <summary>Creates the allocator from the stored key and reservation.</summary>
    public RefAllocator(byte[] key, long reservedUpTo)
    {
        ArgumentNullException.ThrowIfNull(key);
        var material = SHA256.HashData(key);
        for (var i = 0; i < 4; i++)
        {
            _roundKeys[i] = BinaryPrimitives.ReadUInt64LittleEndian(material.AsSpan(i * 8, 8));
        }

        // Everything below the stored reservation may have been used before a crash: start above it.
        _next = reservedUpTo;
        _reservedUpTo = reservedUpTo;
    }

    /// <summary>The reservation the store must hold before <see cref="Next"/> may be called again.</summary>
    public long ReservedUpTo => Interlocked.Read(ref _reservedUpTo);

    /// <summary>How many refs can still be handed out under the stored reservation.</summary>
    public long Remaining => Interlocked.Read(ref _reservedUpTo) - Interlocked.Read(ref _next);

    /// <summary>The reservation to store now to cover the next block.</summary>
    public long NextReservation() => Math.Min(Interlocked.Read(ref _next) + BlockSize, Domain);

    /// <summary>Call once the reservation is stored.</summary>
    public void Reserved(long upTo) => Interlocked.Exchange(ref _reservedUpTo, upTo);

    /// <summary>The next ref. Thread-safe.</summary>
    public long Next()
    {
        var sequence = Interlocked.Increment(ref _next);
        if (sequence >= Domain)
        {
            throw new InvalidOperationException("Reference space exhausted.");
        }

        return Permute(sequence) + 1;
    }

    /// <summary>A fresh random key for a new installation.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(32);

    private long Permute(long value)
    {
        var left = ((ulong)value >> HalfBits) & HalfMask;
        var right = (ulong)value & HalfMask;
        for (var round = 0; round < 4; round++)
        {
            var mixed = Round(right, _roundKeys[round]);
            (left, right) = (right, (left ^ mixed) & HalfMask);
        }

        return (long)((left << HalfBits) | right);
    }

    private static ulong Round(ulong half, ulong key)
    {
        var x = (half + key) * 0x9E3779B97F4A7C15UL;
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 32;
        return x;
    }
}
