namespace Pantri.Iot.Gateway.Storage;

/// <summary>A commit refused because another gateway instance changed the shared store first (or one of the store's
/// invariants — one open order per instruction, one command per request id — would break). Nothing of the batch was
/// stored; the writer reloads and its callers may retry.</summary>
public sealed class StoreConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreConflictException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
