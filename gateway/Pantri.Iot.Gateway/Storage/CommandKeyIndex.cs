using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Finds stored commands by idempotency key hash in LiteDB, indexed in chunks instead of per command.</summary>
/// <remarks>A key hash is random, so indexing it with each command made every insert land on its own index page: one
/// 8 KB page written to LiteDB's log (and again by the checkpoint) per command, a cost that grew with the index — about
/// a third of LiteDB's thread, and most of its disk writes, in a steady run of level reports (docs/benchmarks.md, round
/// 6). Here the hashes of newly stored commands are held in memory until there are <see cref="ChunkSize"/>, then sorted
/// and written to the <c>commandkeys</c> collection (id = the command's sequence, <c>h</c> indexed) in slices of
/// <see cref="SliceSize"/>, one slice with each of the next transactions, so neighbouring entries share index pages and
/// no transaction carries a whole chunk. A watermark, moved in the transaction that writes a chunk's last slice, says
/// what is indexed: every keyed command up to it. At open the entries past it (a chunk cut short) are deleted and the
/// keyed commands past it — about a chunk — are read back from the commands' id range.
/// Callers hold the store's gate: the write lock to change it, a read lock to find.</remarks>
internal sealed class CommandKeyIndex(int chunkSize = CommandKeyIndex.ChunkSize, int sliceSize = CommandKeyIndex.SliceSize)
{
    /// <summary>Keys held in memory before they are sorted and written as one chunk.</summary>
    public const int ChunkSize = 32_768;

    /// <summary>Entries of a chunk written per transaction.</summary>
    public const int SliceSize = 512;

    private const string HashField = "h";
    private const string WatermarkId = "keys";
    private List<(long Hash, long Sequence)> _collecting = [];
    private (long Hash, long Sequence)[]? _sealed;
    private long _sealedUpTo;
    private int _sealedWritten;
    private int _writing;
    private Written _written;
    private long _newest;

    private enum Written
    {
        Nothing,
        Slice,
        All,
    }

    /// <summary>Keys held in memory, not yet written (or not wholly).</summary>
    public int Unindexed => _collecting.Count + (_sealed?.Length ?? 0);

    /// <summary>Loads what the collection does not hold: keyed commands after the watermark (and drops the entries of a
    /// chunk cut short). A database from before this index (its commands carry a hash index of their own) has that index
    /// moved here first, once.</summary>
    public void Open(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collecting = [];
        _sealed = null;
        _writing = 0;
        var keys = Keys(database);
        keys.EnsureIndex(HashField);
        var commands = database.GetCollection(LiteDbCollections.Commands);
        var watermark = Watermark(database) ?? MoveCommandsIndex(database, keys, commands);
        keys.DeleteMany(Query.GT("_id", watermark));
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
            _newest = Math.Max(_newest, sequence);
            if (command[nameof(CommandRecord.KeyHash)] is { IsNumber: true } hash)
            {
                _collecting.Add((hash.AsInt64, sequence));
            }
        }
    }

    /// <summary>Inside the caller's transaction: seals a full chunk and writes the next slice of the sealed one (with
    /// <paramref name="all"/>: everything held, and the watermark past every command added).</summary>
    public void WriteSlice(LiteDatabase database, bool all)
    {
        ArgumentNullException.ThrowIfNull(database);
        _written = Written.Nothing;
        if (all)
        {
            Keys(database).InsertBulk((_sealed ?? []).Skip(_sealedWritten).Concat(_collecting).OrderBy(e => e.Hash).Select(Entry));
            _sealedUpTo = _newest;
            _written = Written.All;
        }
        else
        {
            if (_sealed is null && _collecting.Count >= chunkSize)
            {
                _sealed = [.. _collecting.OrderBy(e => e.Hash)];
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
            _writing = _collecting.Count >= chunkSize ? _sealed.Length - _sealedWritten : Math.Min(sliceSize, _sealed.Length - _sealedWritten);
            Keys(database).InsertBulk(_sealed.Skip(_sealedWritten).Take(_writing).Select(Entry));
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
        var found = Keys(database).Find(Query.EQ(HashField, new BsonValue(hash))).Select(d => d["_id"].AsInt64).ToList();
        found.AddRange(_collecting.Where(e => e.Hash == hash).Select(e => e.Sequence));
        if (_sealed is not null)
        {
            var i = Array.BinarySearch(_sealed, (hash, long.MinValue));
            for (i = i < 0 ? ~i : i; i < _sealed.Length && _sealed[i].Hash == hash; i++)
            {
                found.Add(_sealed[i].Sequence);
            }
        }

        return found;
    }

    private static BsonDocument Entry((long Hash, long Sequence) entry) => new() { ["_id"] = entry.Sequence, [HashField] = entry.Hash };

    private static ILiteCollection<BsonDocument> Keys(LiteDatabase database) => database.GetCollection(LiteDbCollections.CommandKeys);

    private static long? Watermark(LiteDatabase database) =>
        database.GetCollection(LiteDbCollections.Journal).FindById(WatermarkId) is { } document ? document["upTo"].AsInt64 : null;

    // The first open of a database written before this index: its commands' own hash index becomes the collection (one
    // bulk insert, sorted) and is dropped. A new database has no commands and starts at 0.
    private static long MoveCommandsIndex(LiteDatabase database, ILiteCollection<BsonDocument> keys, ILiteCollection<BsonDocument> commands)
    {
        var newest = commands.Find(Query.All("_id", Query.Descending), limit: 1).FirstOrDefault()?["_id"].AsInt64 ?? 0;
        database.BeginTrans();
        try
        {
            keys.InsertBulk(commands.Find(Query.Not(nameof(CommandRecord.KeyHash), BsonValue.Null))
                .Select(c => (Hash: c[nameof(CommandRecord.KeyHash)].AsInt64, Sequence: c["_id"].AsInt64))
                .OrderBy(e => e.Hash)
                .Select(Entry)
                .ToList());
            database.GetCollection(LiteDbCollections.Journal).Upsert(new BsonDocument { ["_id"] = WatermarkId, ["upTo"] = newest });
            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }

        commands.DropIndex(nameof(CommandRecord.KeyHash));
        return newest;
    }
}
