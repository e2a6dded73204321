namespace Pantri.Iot.Gateway.Storage;

/// <summary>Opens the gateway's store at start: checks its files (<see cref="LiteDbFileCheck"/>), opens LiteDB and reads
/// the installation values, turning any failure into a <see cref="GatewayStartupException"/> that names the file — never
/// a partial start, never a bare stack trace.</summary>
public static partial class StoreStartup
{
    /// <summary>Opens <see cref="GatewayOptions.DatabasePath"/>; the data directory must already be locked.</summary>
    /// <exception cref="GatewayStartupException">A file is damaged or cannot be read.</exception>
    public static LiteDbGatewayStore Open(GatewayOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Path.GetFullPath(options.DatabasePath);
        var logPath = LiteDbGatewayStore.LogPathOf(path);
        var tail = LiteDbFileCheck.Verify(path, logPath);
        if (tail.UnfinishedPages > 0)
        {
            LogUnfinishedTransaction(logger, logPath, tail.UnfinishedPages);
        }

        LiteDbGatewayStore? store = null;
        try
        {
            // Idempotency keys older than the window are not looked up, so the key index keeps only the window's.
            store = new LiteDbGatewayStore(path, null, new CommandKeyIndex(retention: options.IdempotencyWindow));
            if (store.ReplayedAtOpen > 0)
            {
                LogJournalReplayed(logger, store.ReplayedAtOpen, path);
            }

            store.LoadMeta();
            return store;
        }
        catch (Exception ex) when (ex is not GatewayStartupException)
        {
            store?.Dispose();
            throw Unreadable(path, ex);
        }
    }

    /// <summary>The refusal for a store that opened but could not be read.</summary>
    public static GatewayStartupException Unreadable(string databasePath, Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var path = Path.GetFullPath(databasePath);
        return new GatewayStartupException(
            $"The storage file {path} (with its log {LiteDbGatewayStore.LogPathOf(path)}) cannot be read: {cause.Message} " +
            "Restore the data directory from a backup; the gateway does not start on a damaged file.", cause);
    }

    [LoggerMessage(EventId = 3309, Level = LogLevel.Information, Message = "Replayed {Batches} acknowledged batches from the journal into {Path}: the last run stopped before LiteDB held them")]
    private static partial void LogJournalReplayed(ILogger logger, int batches, string path);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "The storage log {Path} ended inside a transaction that was never committed ({Pages} pages, as a crash leaves it); LiteDB discards it, and nothing acknowledged was in it")]
    private static partial void LogUnfinishedTransaction(ILogger logger, string path, int pages);
}
