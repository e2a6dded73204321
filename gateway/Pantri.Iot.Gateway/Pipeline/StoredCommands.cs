using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Finds stored commands by the CommandRef a device was given (audits, tests, the benchmark's check that
/// every acknowledged command is stored). The store keys commands by sequence; the installation's ref key maps a
/// CommandRef back to it.</summary>
public static class StoredCommands
{
    /// <summary>The command that was acknowledged with <paramref name="commandRef"/>, or null when none was stored.</summary>
    public static CommandRecord? FindCommandByRef(this IGatewayStore store, long commandRef)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.LoadMeta() is not { RefKey.Length: > 0 } meta)
        {
            return null;
        }

        var sequence = new RefPermutation(Convert.FromBase64String(meta.RefKey)).SequenceOf(commandRef);
        var record = sequence < 0 ? null : store.FindCommandBySequence(sequence);
        return record?.CommandRef == commandRef ? record : null;
    }
}
