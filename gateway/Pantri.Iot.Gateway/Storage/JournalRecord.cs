using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>A <see cref="WriteBatch"/> as the documents LiteDB stores, grouped by collection: what the journal keeps
/// and what <see cref="PendingChanges"/> applies. Built with the store's mapper, so a replayed record writes exactly the
/// documents the live path would have written.</summary>
internal static class JournalRecord
{
    private const string Upserts = "u";
    private const string Deletes = "d";
    private const string Inserts = "i";

    /// <summary>The batch as one document: <c>{ collection: { u: [documents], d: [ids], i: [documents] } }</c>.</summary>
    public static BsonDocument From(WriteBatch batch, BsonMapper mapper)
    {
        var record = new BsonDocument();
        Upsert(record, mapper, LiteDbCollections.Devices, batch.Devices.Values);
        Upsert(record, mapper, LiteDbCollections.Instructions, batch.Instructions.Values);
        Delete(record, LiteDbCollections.Instructions, batch.InstructionsDeleted.Select(r => new BsonValue(r)));
        UpsertOrDelete(record, mapper, LiteDbCollections.Households, batch.Households);
        UpsertOrDelete(record, mapper, LiteDbCollections.Users, batch.Users);
        UpsertOrDelete(record, mapper, LiteDbCollections.PairingCodes, batch.PairingCodes);
        Upsert(record, mapper, LiteDbCollections.Orders, batch.Orders.Values);
        Upsert(record, mapper, LiteDbCollections.Safeguards, batch.Safeguards.Values);
        Upsert(record, mapper, LiteDbCollections.Outbox, batch.Outbox.Values);
        Delete(record, LiteDbCollections.Outbox, batch.OutboxDone.Select(r => new BsonValue(r)));
        if (batch.Meta is not null)
        {
            Upsert(record, mapper, LiteDbCollections.Meta, [batch.Meta]);
        }

        if (batch.Audit.Count > 0)
        {
            // Numbered by LiteDB when inserted (auto id), as the typed collection would.
            Section(record, LiteDbCollections.Audit)[Inserts] = new BsonArray(batch.Audit.Select(a =>
            {
                var document = mapper.ToDocument(a);
                document.Remove("_id");
                return document;
            }));
        }

        if (batch.Commands.Count > 0)
        {
            foreach (var command in batch.Commands)
            {
                command.KeyHash = command.IdempotencyKey is { } key ? IdempotencyKeyHash.Of(key) : null;
            }

            Section(record, LiteDbCollections.Commands)[Inserts] = new BsonArray(batch.Commands.Select(c => mapper.ToDocument(c)));
        }

        return record;
    }

    /// <summary>The upserts of <paramref name="section"/>, then its deletes (a batch that queues and finishes the same
    /// outbox entry leaves none), then its inserts.</summary>
    public static (IEnumerable<BsonDocument> Upserts, IEnumerable<BsonValue> Deletes, IEnumerable<BsonDocument> Inserts) Read(BsonDocument section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return (Array(section, Upserts).Select(v => v.AsDocument), Array(section, Deletes), Array(section, Inserts).Select(v => v.AsDocument));
    }

    private static BsonArray Array(BsonDocument section, string key) => section.TryGetValue(key, out var value) ? value.AsArray : [];

    private static void Upsert<T>(BsonDocument record, BsonMapper mapper, string collection, IEnumerable<T> documents)
    {
        var array = new BsonArray(documents.Select(d => (BsonValue)mapper.ToDocument(d)));
        if (array.Count > 0)
        {
            Section(record, collection)[Upserts] = array;
        }
    }

    private static void Delete(BsonDocument record, string collection, IEnumerable<BsonValue> ids)
    {
        var array = new BsonArray(ids);
        if (array.Count > 0)
        {
            Section(record, collection)[Deletes] = array;
        }
    }

    private static void UpsertOrDelete<T>(BsonDocument record, BsonMapper mapper, string collection, Dictionary<string, T?> changes)
        where T : class
    {
        Upsert(record, mapper, collection, changes.Values.OfType<T>());
        Delete(record, collection, changes.Where(c => c.Value is null).Select(c => new BsonValue(c.Key)));
    }

    private static BsonDocument Section(BsonDocument record, string collection)
    {
        if (!record.TryGetValue(collection, out var section))
        {
            section = new BsonDocument();
            record[collection] = section;
        }

        return section.AsDocument;
    }
}
