using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>The idempotency keys of every command committed at or after <see cref="CoveredSince"/>, in memory, so
/// the common case — a new RequestId — is answered without touching storage. Keys are held as 64-bit hashes
/// (≈ 60 bytes an entry): a hash hit is only a candidate that the caller verifies against the stored record, a hash
/// miss inside the covered span is a definite "never seen". Bounded: past <see cref="Capacity"/> the oldest entries
/// go and the covered span shrinks; lookups the span no longer answers fall back to storage. Writer thread only.</summary>
internal sealed class RecentCommandKeys(int capacity)
{
    private readonly Dictionary<ulong, (long Sequence, long AtTicks)> _byHash = [];
    private readonly Queue<(ulong Hash, long Sequence, long AtTicks)> _byAge = new();

    /// <summary>The outcome of <see cref="Find"/>.</summary>
    public enum Answer
    {
        /// <summary>No command with this key at or after the given time.</summary>
        None,

        /// <summary>The latest command whose key has the same hash (its sequence); verify its key.</summary>
        Candidate,

        /// <summary>Not covered: ask storage.</summary>
        Unknown,
    }

    /// <summary>Most entries kept.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Entries held.</summary>
    public int Count => _byHash.Count;

    /// <summary>Every committed key with <c>At ≥ CoveredSince</c> is held. Nothing is covered until <see cref="Start"/>.</summary>
    public DateTimeOffset CoveredSince { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>Loads the keys of stored commands (newest first) and covers from <paramref name="since"/>, or from
    /// just after the oldest loaded one when the list was cut at <see cref="Capacity"/> (or at <paramref name="readLimit"/>,
    /// the most the caller read).</summary>
    public void Start(DateTimeOffset since, IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> newestFirst, int? readLimit = null)
    {
        ArgumentNullException.ThrowIfNull(newestFirst);
        _byHash.Clear();
        _byAge.Clear();
        CoveredSince = since;
        for (var i = newestFirst.Count - 1; i >= 0; i--)
        {
            var (key, sequence, at) = newestFirst[i];
            Add(key, sequence, at);
        }

        if (newestFirst.Count >= Math.Min(Capacity, readLimit ?? Capacity) && newestFirst.Count > 0)
        {
            Raise(newestFirst[^1].At.UtcTicks + 1);
        }
    }

    /// <summary>Bytes of one entry as <see cref="WriteTo"/> and <see cref="WriteEntry"/> write it.</summary>
    public const int EntrySize = 24;

    /// <summary>Writes the coverage and every entry, oldest first, for <see cref="ReadFrom"/>; returns how many entries.
    /// More entries may be appended after them with <see cref="WriteEntry"/>.</summary>
    public int WriteTo(BinaryWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(CoveredSince.UtcTicks);
        foreach (var (hash, sequence, atTicks) in _byAge)
        {
            output.Write(hash);
            output.Write(sequence);
            output.Write(atTicks);
        }

        return _byAge.Count;
    }

    /// <summary>One entry as <see cref="WriteTo"/> writes it, into <paramref name="destination"/>.</summary>
    public static void WriteEntry(Span<byte> destination, string key, long sequence, DateTimeOffset at)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, Hash(key));
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(destination[8..], sequence);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(destination[16..], at.UtcTicks);
    }

    /// <summary>Replaces what is held with what <see cref="WriteTo"/> (and <see cref="WriteEntry"/>) wrote, up to
    /// <paramref name="length"/>; a last entry cut short is ignored. Past <see cref="Capacity"/> the oldest go.</summary>
    /// <exception cref="InvalidDataException">The coverage is out of range.</exception>
    public void ReadFrom(BinaryReader input, long length)
    {
        ArgumentNullException.ThrowIfNull(input);
        _byHash.Clear();
        _byAge.Clear();
        CoveredSince = DateTimeOffset.MaxValue;
        var covered = input.ReadInt64();
        if (covered < DateTimeOffset.MinValue.UtcTicks || covered > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw new InvalidDataException("not a key log");
        }

        CoveredSince = new DateTimeOffset(covered, TimeSpan.Zero);
        while (input.BaseStream.Position + EntrySize <= length)
        {
            var (hash, sequence, atTicks) = (input.ReadUInt64(), input.ReadInt64(), input.ReadInt64());
            _byHash[hash] = (sequence, atTicks);
            _byAge.Enqueue((hash, sequence, atTicks));
            while (_byAge.Count > Capacity)
            {
                Evict();
            }
        }
    }

    /// <summary>Records a committed command.</summary>
    public void Add(string key, long sequence, DateTimeOffset at)
    {
        var hash = Hash(key);
        _byHash[hash] = (sequence, at.UtcTicks);
        _byAge.Enqueue((hash, sequence, at.UtcTicks));
        while (_byAge.Count > Capacity)
        {
            Evict();
        }
    }

    /// <summary>Drops entries older than <paramref name="before"/>: they can no longer be replayed.</summary>
    public void Trim(DateTimeOffset before)
    {
        while (_byAge.TryPeek(out var oldest) && oldest.AtTicks < before.UtcTicks)
        {
            Evict();
        }
    }

    /// <summary>What memory knows about <paramref name="key"/> at or after <paramref name="since"/>.</summary>
    public Answer Find(string key, DateTimeOffset since, out long sequence)
    {
        sequence = 0;
        if (_byHash.TryGetValue(Hash(key), out var entry))
        {
            // The held entry is the newest with this hash; older ones with the same key are older still.
            if (entry.AtTicks < since.UtcTicks)
            {
                return CoveredSince <= since ? Answer.None : Answer.Unknown;
            }

            sequence = entry.Sequence;
            return Answer.Candidate;
        }

        return CoveredSince <= since ? Answer.None : Answer.Unknown;
    }

    private void Evict()
    {
        var (hash, sequence, atTicks) = _byAge.Dequeue();
        if (_byHash.TryGetValue(hash, out var held) && held.Sequence == sequence)
        {
            _byHash.Remove(hash);
        }

        Raise(atTicks + 1);
    }

    private void Raise(long ticks)
    {
        if (ticks > CoveredSince.UtcTicks)
        {
            CoveredSince = new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    private static ulong Hash(string key) => unchecked((ulong)IdempotencyKeyHash.Of(key));
}
