using LiteDB;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Tests.Storage;

[Category("Integration")]
public sealed class AbandonedTransactionsTests
{
    [Test]
    public void The_open_transaction_of_a_LiteDB_engine_is_found_so_its_finalizer_can_be_stopped()
    {
        var path = Path.Combine(Path.GetTempPath(), "pantri-abandoned-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
            Assert.That(AbandonedTransactions.SuppressFinalizers(db), Is.Zero, "no transaction open yet");

            db.BeginTrans();
            db.GetCollection("things").Insert(new BsonDocument { ["_id"] = 1 });

            Assert.That(AbandonedTransactions.SuppressFinalizers(db), Is.EqualTo(1), "LiteDB's internals are where this expects them (a LiteDB upgrade that renames them fails here)");
            db.Rollback();
        }
        finally
        {
            File.Delete(path);
            File.Delete(LiteDbGatewayStore.LogPathOf(path));
        }
    }
}
