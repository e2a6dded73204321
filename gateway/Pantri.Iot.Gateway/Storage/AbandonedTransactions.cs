using System.Collections;
using System.Reflection;
using LiteDB;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Keeps a LiteDB engine that failed from taking the process down later. When a commit fails inside LiteDB
/// (a full disk) and its rollback fails too, the transaction stays "active" with pages LiteDB no longer considers
/// writable; its finalizer then tries to discard them, throws "discarded page must be writable" on the finalizer thread,
/// and that ends the process — seen once in a test run, minutes after the store had recovered. The engine is dropped
/// and the files reopened anyway, so what that finalizer would discard belongs to a cache nobody uses again.</summary>
/// <remarks>LiteDB 5.0.21 gives no public way to reach its open transactions: this reads
/// <c>LiteDatabase._engine</c> → <c>LiteEngine._monitor</c> → <c>TransactionMonitor._transactions</c>, and does nothing when a
/// later version names them differently.</remarks>
internal static class AbandonedTransactions
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;

    /// <summary>Stops the finalizers of <paramref name="database"/>'s open transactions; returns how many there were.</summary>
    public static int SuppressFinalizers(LiteDatabase database)
    {
        var engine = typeof(LiteDatabase).GetField("_engine", Private)?.GetValue(database);
        var monitor = engine?.GetType().GetField("_monitor", Private)?.GetValue(engine);
        if (monitor?.GetType().GetField("_transactions", Private)?.GetValue(monitor) is not IDictionary transactions)
        {
            return 0;
        }

        lock (transactions)
        {
            foreach (var transaction in transactions.Values)
            {
                if (transaction is not null)
                {
#pragma warning disable CA1816 // Deliberately another object's finalizer: the point of this class.
                    GC.SuppressFinalize(transaction);
#pragma warning restore CA1816
                }
            }

            return transactions.Count;
        }
    }
}
