using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Journaled batches not yet in LiteDB, merged: the latest document per id (or its deletion) and every insert
/// in order. Under load many batches touch the same few instructions, so LiteDB writes each of them once per
/// transaction instead of once per batch.</summary>
internal sealed class PendingChanges
{
    private readonly Dictionary<string, Dictionary<BsonValue, BsonDocument?>> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<BsonDocument>> _inserts = new(StringComparer.Ordinal);

    /// <summary>The sequence of the newest batch added.</summary>
    public long LastSequence { get; private set; }

    /// <summary>Batches added since the last <see cref="Clear"/>.</summary>
    public int Batches { get; private set; }

    /// <summary>Adds the next journaled batch.</summary>
    public void Add(long sequence, BsonDocument record)
    {
        foreach (var (collection, value) in record)
        {
            var (upserts, deletes, inserts) = JournalRecord.Read(value.AsDocument);
            var latest = Latest(collection);
            foreach (var document in upserts)
            {
                latest[document["_id"]] = document;
            }

            foreach (var id in deletes)
            {
                latest[id] = null;
            }

            foreach (var document in inserts)
            {
                if (!_inserts.TryGetValue(collection, out var list))
                {
                    _inserts[collection] = list = [];
                }

                list.Add(document);
            }
        }

        LastSequence = sequence;
        Batches++;
    }

    /// <summary>The documents added to insert into <paramref name="collection"/>, in order.</summary>
    public IEnumerable<BsonDocument> Inserted(string collection) => _inserts.TryGetValue(collection, out var documents) ? documents : [];

    /// <summary>Writes everything added into <paramref name="database"/>, inside the caller's transaction.</summary>
    public void ApplyTo(LiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        foreach (var (name, latest) in _latest)
        {
            var collection = database.GetCollection(name);
            foreach (var (id, document) in latest)
            {
                _ = document is null ? collection.Delete(id) : collection.Upsert(document);
            }
        }

        foreach (var (name, documents) in _inserts)
        {
            // Audit entries carry no id: LiteDB numbers them as the typed collection (long ids) does.
            database.GetCollection(name, BsonAutoId.Int64).InsertBulk(documents);
        }
    }

    /// <summary>Empties the set for the next round.</summary>
    public void Clear()
    {
        _latest.Clear();
        _inserts.Clear();
        Batches = 0;
    }

    private Dictionary<BsonValue, BsonDocument?> Latest(string collection)
    {
        if (!_latest.TryGetValue(collection, out var latest))
        {
            _latest[collection] = latest = [];
        }

        return latest;
    }
}
