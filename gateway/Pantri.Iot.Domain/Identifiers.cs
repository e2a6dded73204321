using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Pantri.Iot.Domain;

/// <summary>The forms of household and user ids. Both appear in tokens, URLs and the command line, so they are
/// lower-case words: a household <c>^[a-z0-9][a-z0-9-]{1,62}\z</c>, a user <c>^[a-z0-9][a-z0-9._-]{0,63}\z</c>.
/// <c>\z</c>, not <c>$</c>: <c>$</c> also matches before a final newline.</summary>
public static partial class Identifiers
{
    /// <summary>What a household id must look like, for error messages.</summary>
    public const string HouseholdRule = "must match ^[a-z0-9][a-z0-9-]{1,62}$";

    /// <summary>What a user id must look like, for error messages.</summary>
    public const string UserRule = "must match ^[a-z0-9][a-z0-9._-]{0,63}$";

    /// <summary>True for a well-formed household id.</summary>
    public static bool IsHouseholdId([NotNullWhen(true)] string? value) => value is not null && HouseholdPattern().IsMatch(value);

    /// <summary>True for a well-formed user id.</summary>
    public static bool IsUserId([NotNullWhen(true)] string? value) => value is not null && UserPattern().IsMatch(value);

    /// <summary>A household id made from a display name: lower-case letters and digits, other runs become one dash
    /// (<c>"The Smiths"</c> → <c>the-smiths</c>); null when nothing usable is left.</summary>
    public static string? HouseholdIdFrom(string? name)
    {
        if (name is null)
        {
            return null;
        }

        var chars = new System.Text.StringBuilder();
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                chars.Append(c);
            }
            else if (chars.Length > 0 && chars[^1] != '-')
            {
                chars.Append('-');
            }

            if (chars.Length == 63)
            {
                break;
            }
        }

        var id = chars.ToString().TrimEnd('-');
        return IsHouseholdId(id) ? id : null;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{1,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex HouseholdPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserPattern();
}
