using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>A keyed permutation of [0, 2^40) (a 4-round Feistel network on two 20-bit halves): turns a sequence
/// number into a ref that does not reveal its neighbours, and back. The way back finds a stored command (keyed by
/// sequence, so the log grows by appends) from the scrambled CommandRef a device or a test holds.</summary>
public sealed class RefPermutation
{
    /// <summary>Size of the domain.</summary>
    public const long Domain = 1L << (2 * HalfBits);

    private const int HalfBits = 20;
    private const ulong HalfMask = (1UL << HalfBits) - 1;
    private readonly ulong[] _roundKeys = new ulong[4];

    /// <summary>Derives the round keys from an installation secret.</summary>
    public RefPermutation(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var material = SHA256.HashData(key);
        for (var i = 0; i < 4; i++)
        {
            _roundKeys[i] = BinaryPrimitives.ReadUInt64LittleEndian(material.AsSpan(i * 8, 8));
        }
    }

    /// <summary>The ref of a sequence number (positive, never 0).</summary>
    public long RefOf(long sequence)
    {
        var left = ((ulong)sequence >> HalfBits) & HalfMask;
        var right = (ulong)sequence & HalfMask;
        for (var round = 0; round < 4; round++)
        {
            (left, right) = (right, (left ^ Round(right, _roundKeys[round])) & HalfMask);
        }

        return (long)((left << HalfBits) | right) + 1;
    }

    /// <summary>The sequence number a ref came from, or -1 for a value no ref can have.</summary>
    public long SequenceOf(long reference)
    {
        if (reference is < 1 or > Domain)
        {
            return -1;
        }

        var value = (ulong)(reference - 1);
        var left = (value >> HalfBits) & HalfMask;
        var right = value & HalfMask;
        for (var round = 3; round >= 0; round--)
        {
            (left, right) = ((right ^ Round(left, _roundKeys[round])) & HalfMask, left);
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
