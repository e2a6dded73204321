using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Pantri.Iot.Contract;

/// <summary>The one RequestId rule, for the MQTT JSON field and the HTTP headers alike: a JSON string, or a JSON
/// number taken as its literal text; empty or null means no RequestId; longer than <see cref="MaxLength"/> characters
/// is malformed, and so is any other JSON token.</summary>
public static class RequestIds
{
    /// <summary>Longest RequestId accepted, in UTF-16 characters; it bounds what the idempotency index stores.</summary>
    public const int MaxLength = 128;

    private const string TooLong = "RequestId longer than 128 characters";
    private const string NotAString = "RequestId must be a string";

    /// <summary>Applies the rule to a value that is already text, such as an HTTP header.</summary>
    /// <param name="raw">The value as received.</param>
    /// <param name="requestId">The RequestId, or null when <paramref name="raw"/> is null or empty.</param>
    /// <param name="error">Why the value is refused, when the method returns false.</param>
    /// <returns>False when the value is longer than <see cref="MaxLength"/>.</returns>
    public static bool TryNormalize(string? raw, out string? requestId, [NotNullWhen(false)] out string? error)
    {
        requestId = null;
        error = null;
        if (string.IsNullOrEmpty(raw))
        {
            return true;
        }

        if (raw.Length > MaxLength)
        {
            error = TooLong;
            return false;
        }

        requestId = raw;
        return true;
    }

    /// <summary>Applies the rule to the JSON value the reader is positioned on.</summary>
    /// <remarks>A number is taken as its literal text so <c>"RequestId": 17</c> and <c>"RequestId": "17"</c> name the
    /// same request; the reader reads a single span, never a sequence, so <c>ValueSpan</c> holds the whole number.</remarks>
    internal static bool TryRead(ref Utf8JsonReader reader, out string? requestId, [NotNullWhen(false)] out string? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return TryNormalize(reader.GetString(), out requestId, out error);
            case JsonTokenType.Number:
                return TryNormalize(Encoding.UTF8.GetString(reader.ValueSpan), out requestId, out error);
            case JsonTokenType.Null:
                requestId = null;
                error = null;
                return true;
            default:
                requestId = null;
                error = NotAString;
                return false;
        }
    }
}
