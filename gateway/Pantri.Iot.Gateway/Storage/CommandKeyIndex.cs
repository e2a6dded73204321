using System.Buffers.Binary;
using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Finds stored commands by idempotency key hash in LiteDB, indexed in chunks instead of per command.</summary>
/// <remarks>A key hash is random, so indexing it with each command made every insert land on its own index page: one
/// 8 KB page written to LiteDB's log (and again by the checkpoint) per command, a cost that grew with the index — about
/// a third of LiteDB's thread, and most of its disk writes, in a steady run of level reports. A LiteDB index insert also
/// walks the index's skip list, allocating every node it passes: about 40 KB per key. So the hashes are not indexed by
/// LiteDB at all: the <c>commandkeys</c> collection holds <see cref="Buckets"/> documents, each the sorted (hash,
/// sequence) pairs of the hashes whose mixed top bits are its id, found by id and searched in memory. New keys are held in
/// memory until there are <see cref="ChunkSize"/>, then sorted and merged into their buckets, <see cref="SliceSize"/>
/// pairs' worth of buckets per transaction, so no transaction carries a whole chunk (docs/benchmarks.md, round 6).
/// A watermark, moved in the transaction that writes a chunk's last slice, says what is in the buckets: every keyed
/// command up to it. At open the keyed commands past it — about a chunk — are read back from the commands' id range;
/// pairs a chunk cut short had already written are merged again without doubling. With a retention
/// (the gateway's idempotency window), pairs of commands older than that before the newest command are dropped as
/// their bucket is merged, so the buckets hold about the window's keys, not the whole history. (A window made longer
/// later finds no keys older than the one before.)
/// Callers hold the store's gate: the write lock to change it, a read lock to find.</remarks>
internal sealed class CommandKeyIndex
{
    /// <summary>Keys held in memory before they are sorted and written as one chunk.</summary>
    public const int ChunkSize = 32_768;

    /// <summary>Pairs of a chunk written per transaction (rounded up to whole buckets).</summary>
    public const int SliceSize = 2_048;

    /// <summary>Bucket documents: the top 12 bits of a hash, mixed, name its bucket.</summary>
    public const int Buckets = 4_096;

    private const int PairSize = 24;
    private const string PairsField = "p";
    private const string WatermarkId = "keys";

    private readonly int _chunkSize;
    private readonly int _sliceSize;
    private readonly TimeSpan? _retention;
    private readonly int _bucketShift;

    // Pairs in bucket order, then by hash and sequence: how chunks are cut into slices and how a bucket is searched.
    private readonly Comparer<KeyPair> _byBucket;
    private List<KeyPair> _collecting = [];
    private KeyPair[]? _sealed;
    private long _sealedUpTo;
    private int _sealedWritten;
    private int _writing;
    private Written _written;
    private long _newest;
    private long _newestAt;

    private enum Written
    {
        Nothing,
        Slice,
        All,
    }

    /// <summary>The index of a store; smaller chunks, slices and fewer buckets in tests. The bucket count (a power of two)
    /// must stay the same for a database.</summary>
    public CommandKeyIndex(int chunkSize = ChunkSize, int sliceSize = SliceSize, TimeSpan? retention = null, int buckets = Buckets)
    {
        _chunkSize = chunkSize;
        _sliceSize = sliceSize;
        _retention = retention;
        _bucketShift = 64 - System.Numerics.BitOperations.Log2((uint)buckets);
        _byBucket = Comparer<KeyPair>.Create((a, b) => BucketOf(a.Hash) != BucketOf(b.Hash) ? BucketOf(a.Hash).CompareTo(BucketOf(b.Hash)) : (a.Hash, a.Sequence).CompareTo((b.Hash, b.Sequence)));
    }

    /// <summary>Keys held in memory, not yet written (or not wholly).</summary>
    public int Unindexed => _collecting.Count + (_sealed?.Length ?? 0);

    /// <summary>How many (hash, sequence) pairs the buckets of <paramref name="database"/> hold.</summary>
    public static int Count(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return Keys(database).FindAll().Sum(d => d[PairsField].AsBinary.Length / PairSize);
    }

    /// <summary>Loads what the buckets do not hold: keyed commands after the watermark. A database from before this
    /// index (its commands carry a hash index of their own) has that index moved here first, once.</summary>
    public void Open(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collecting = [];
        _sealed = null;
        _writing = 0;
        var commands = database.GetCollection(LiteDbCollections.Commands);
        var watermark = Watermark(database) ?? MoveCommandsIndex(database, commands);
        // Dropped after the move's commit, so also here: a stop between the two must not leave it costing every insert.
        commands.DropIndex(nameof(CommandRecord.KeyHash));
        _newest = watermark;
        Added(commands.Find(Query.GT("_id", watermark)));
    }

    /// <summary>Takes note of stored commands (inserted in the caller's transaction), in sequence order.</summary>
    public void Added(IEnumerable<BsonDocument> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        foreach (var command in commands)
        {
            var sequence = command["_id"].AsInt64;
            var at = command[nameof(CommandRecord.At)].AsInt64;
            _newest = Math.Max(_newest, sequence);
            _newestAt = Math.Max(_newestAt, at);
            if (command[nameof(CommandRecord.KeyHash)] is { IsNumber: true } hash)
            {
                _collecting.Add(new KeyPair(hash.AsInt64, sequence, at));
            }
        }
    }

    /// <summary>Inside the caller's transaction: seals a full chunk and merges the next slice of the sealed one into its
    /// buckets (with <paramref name="all"/>: everything held, and the watermark past every command added).</summary>
    public void WriteSlice(LiteDatabase database, bool all)
    {
        ArgumentNullException.ThrowIfNull(database);
        _written = Written.Nothing;
        if (all)
        {
            _writing = 0;
            Merge(database, [.. (_sealed ?? []).Skip(_sealedWritten).Concat(_collecting).Order(_byBucket)], Cutoff());
            _sealedUpTo = _newest;
            _written = Written.All;
        }
        else
        {
            if (_sealed is null && _collecting.Count >= _chunkSize)
            {
                _sealed = [.. _collecting.Order(_byBucket)];
                _sealedUpTo = _newest;
                _sealedWritten = 0;
                _collecting = [];
            }

            if (_sealed is null)
            {
                return;
            }

            // Small slices spread a chunk's cost over many transactions; once the next chunk is full, the rest goes at
            // once, so memory holds at most about two chunks.
            var end = _collecting.Count >= _chunkSize ? _sealed.Length : Math.Min(_sealedWritten + _sliceSize, _sealed.Length);
            while (end < _sealed.Length && BucketOf(_sealed[end].Hash) == BucketOf(_sealed[end - 1].Hash))
            {
                end++;
            }

            _writing = end - _sealedWritten;
            Merge(database, _sealed.AsSpan(_sealedWritten, _writing).ToArray(), Cutoff());
            _written = Written.Slice;
        }

        if (_written == Written.All || _sealedWritten + _writing == _sealed!.Length)
        {
            database.GetCollection(LiteDbCollections.Journal).Upsert(new BsonDocument { ["_id"] = WatermarkId, ["upTo"] = _sealedUpTo });
        }
    }

    /// <summary>After the transaction of <see cref="WriteSlice"/> committed: memory lets go of what it wrote.</summary>
    public void SliceCommitted()
    {
        if (_written == Written.All)
        {
            _sealed = null;
            _collecting = [];
        }
        else if (_written == Written.Slice)
        {
            _sealedWritten += _writing;
            if (_sealedWritten == _sealed!.Length)
            {
                _sealed = null;
            }
        }

        _written = Written.Nothing;
    }

    /// <summary>The sequences of the commands stored under <paramref name="hash"/>.</summary>
    public IEnumerable<long> Find(LiteDatabase database, long hash)
    {
        ArgumentNullException.ThrowIfNull(database);
        var found = new List<long>();
        if (Keys(database).FindById(BucketOf(hash)) is { } bucket)
        {
            var pairs = Pairs(bucket);
            for (var i = FirstAtOrAfter(pairs, hash); i < pairs.Length && pairs[i].Hash == hash; i++)
            {
                found.Add(pairs[i].Sequence);
            }
        }

        found.AddRange(_collecting.Where(e => e.Hash == hash).Select(e => e.Sequence));
        if (_sealed is not null)
        {
            for (var i = FirstAtOrAfter(_sealed, hash); i < _sealed.Length && _sealed[i].Hash == hash; i++)
            {
                found.Add(_sealed[i].Sequence);
            }
        }

        return found;
    }

    // Fibonacci hashing: FNV-1a leaves the top bits of similar short keys alike, which would crowd them into a few
    // buckets.
    // Pairs of commands older than the retention before the newest command are dropped when their bucket is merged:
    // no lookup needs them (the writer only asks inside its idempotency window), and the buckets stay the window's size.
    private long Cutoff() => _retention is { } keep && _newestAt > keep.Ticks ? _newestAt - keep.Ticks : long.MinValue;

    private int BucketOf(long hash) => (int)(unchecked((ulong)hash * 0x9E37_79B9_7F4A_7C15UL) >> _bucketShift);

    private int FirstAtOrAfter(KeyPair[] sorted, long hash)
    {
        var i = Array.BinarySearch(sorted, new KeyPair(hash, long.MinValue, 0), _byBucket);
        return i < 0 ? ~i : i;
    }

    // A bucket's pairs: 24 bytes each, hash, sequence and time (ticks), little-endian.
    private static KeyPair[] Pairs(BsonDocument bucket)
    {
        var bytes = bucket[PairsField].AsBinary.AsSpan();
        var pairs = new KeyPair[bytes.Length / PairSize];
        for (var i = 0; i < pairs.Length; i++)
        {
            var pair = bytes.Slice(i * PairSize, PairSize);
            pairs[i] = new KeyPair(BinaryPrimitives.ReadInt64LittleEndian(pair), BinaryPrimitives.ReadInt64LittleEndian(pair[8..]), BinaryPrimitives.ReadInt64LittleEndian(pair[16..]));
        }

        return pairs;
    }

    private static byte[] Bytes(KeyPair[] pairs)
    {
        var bytes = new byte[pairs.Length * PairSize];
        for (var i = 0; i < pairs.Length; i++)
        {
            var pair = bytes.AsSpan(i * PairSize, PairSize);
            BinaryPrimitives.WriteInt64LittleEndian(pair, pairs[i].Hash);
            BinaryPrimitives.WriteInt64LittleEndian(pair[8..], pairs[i].Sequence);
            BinaryPrimitives.WriteInt64LittleEndian(pair[16..], pairs[i].AtTicks);
        }

        return bytes;
    }

    // Sorted pairs into their buckets: each bucket read, merged (a pair it holds already stays once, a pair older than
    // the cutoff goes) and written back.
    private void Merge(LiteDatabase database, KeyPair[] sorted, long cutoff)
    {
        var keys = Keys(database);
        for (var start = 0; start < sorted.Length;)
        {
            var bucket = BucketOf(sorted[start].Hash);
            var end = start;
            while (end < sorted.Length && BucketOf(sorted[end].Hash) == bucket)
            {
                end++;
            }

            var held = keys.FindById(bucket) is { } document ? Pairs(document) : [];
            KeyPair[] merged = [.. held.Concat(sorted[start..end]).Where(p => p.AtTicks >= cutoff).Order(_byBucket).DistinctBy(p => (p.Hash, p.Sequence))];
            keys.Upsert(new BsonDocument { ["_id"] = bucket, [PairsField] = Bytes(merged) });
            start = end;
        }
    }

    private static ILiteCollection<BsonDocument> Keys(LiteDatabase database) => database.GetCollection(LiteDbCollections.CommandKeys);

    private static long? Watermark(LiteDatabase database) =>
        database.GetCollection(LiteDbCollections.Journal).FindById(WatermarkId) is { } document ? document["upTo"].AsInt64 : null;

    // The first open of a database written before this index: its commands' own hash index becomes the buckets (one
    // transaction). A new database has no commands and starts at 0.
    private long MoveCommandsIndex(LiteDatabase database, ILiteCollection<BsonDocument> commands)
    {
        var newest = commands.Find(Query.All("_id", Query.Descending), limit: 1).FirstOrDefault()?["_id"].AsInt64 ?? 0;
        database.BeginTrans();
        try
        {
            Merge(database, [.. commands.Find(Query.Not(nameof(CommandRecord.KeyHash), BsonValue.Null))
                .Select(c => new KeyPair(c[nameof(CommandRecord.KeyHash)].AsInt64, c["_id"].AsInt64, c[nameof(CommandRecord.At)].AsInt64))
                .Order(_byBucket)], long.MinValue);
            database.GetCollection(LiteDbCollections.Journal).Upsert(new BsonDocument { ["_id"] = WatermarkId, ["upTo"] = newest });
            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }

        return newest;
    }
}
