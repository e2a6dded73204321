namespace Pantri.Iot.Domain;

/// <summary>The outcome of a setup change: the changed entity, or why the ledger refused it.</summary>
/// <typeparam name="T">The entity the change returns.</typeparam>
/// <param name="Status">An HTTP-style status: 200/201 for success, 4xx for a refusal.</param>
/// <param name="Error">Why it was refused.</param>
/// <param name="Value">The entity, on success.</param>
public sealed record LedgerOutcome<T>(int Status, string? Error, T? Value)
    where T : class
{
    /// <summary>True when the change was made.</summary>
    public bool IsSuccess => Error is null;
}

/// <summary>Builds <see cref="LedgerOutcome{T}"/>s.</summary>
public static class LedgerOutcome
{
    /// <summary>A change that was made.</summary>
    public static LedgerOutcome<T> Done<T>(T value, int status = 200)
        where T : class => new(status, null, value);

    /// <summary>A change the ledger refused.</summary>
    public static LedgerOutcome<T> Refused<T>(int status, string error)
        where T : class => new(status, error, null);
}
