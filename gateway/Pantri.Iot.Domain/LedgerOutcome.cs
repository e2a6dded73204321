using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>The outcome of a setup change: the changed entity, or why the ledger refused it.</summary>
/// <typeparam name="T">The entity the change returns.</typeparam>
/// <param name="Status">An HTTP-style status: 200/201 for success, 4xx for a refusal.</param>
/// <param name="Error">Why it was refused.</param>
/// <param name="Value">The entity, on success.</param>
/// <param name="Field">For a 400, the field of the request that was refused (<c>Tracking.Level</c>, <c>DeviceIds[0]</c>).</param>
public sealed record LedgerOutcome<T>(int Status, string? Error, T? Value, string? Field = null)
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

    /// <summary>A request the ledger refused because of one of its fields: a 400 naming it.</summary>
    public static LedgerOutcome<T> Invalid<T>(FieldError error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(AckIds.Malformed, error.Field + " " + error.Message, null, error.Field);
    }
}
