using LiteDB;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Backup;

/// <summary>Copies the store on the writer thread, between two commits: every command acknowledged before it was
/// submitted is committed and so in the copy, and no later commit can be half in it. Commands decided earlier in the
/// same batch are not in the copy, and their acks wait for it (they are not acknowledged yet).</summary>
/// <param name="Store">The store to copy.</param>
/// <param name="Directory">An empty directory to copy into.</param>
internal sealed record BackupCommand(IGatewayStore Store, string Directory) : IWriterCommand<BackupCommand.Outcome>
{
    /// <inheritdoc/>
    public Outcome Execute(UnitOfWork work)
    {
        try
        {
            Store.Backup(Directory);
            return new Outcome(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or LiteException or NotSupportedException)
        {
            // The copy failed, not the store: nothing is recorded either way, and the writer carries on.
            return new Outcome(ex.Message);
        }
    }

    /// <inheritdoc/>
    public Outcome Unavailable(long commandRef) => new("storage unavailable");

    /// <summary>What the copy came to.</summary>
    /// <param name="Error">Why it failed; null when the copy is complete.</param>
    internal sealed record Outcome(string? Error);
}
