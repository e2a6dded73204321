using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>The signature on webhook requests and retailer callbacks, as Stripe signs webhooks: header
/// <c>Pantri-Signature: t={unix seconds},v1={hex HMAC-SHA256 of "{t}.{body}" under the retailer's secret}</c>.</summary>
public static class WebhookSignature
{
    /// <summary>The header name.</summary>
    public const string Header = "Pantri-Signature";

    /// <summary>How far a signed timestamp may be from our clock (5 minutes): an older request is a replay.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="at"/>.</summary>
    public static string Sign(string secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={timestamp},v1={Convert.ToHexStringLower(Mac(secret, timestamp, body))}";
    }

    /// <summary>True when <paramref name="header"/> signs <paramref name="body"/> under <paramref name="secret"/> with
    /// a timestamp within <see cref="Tolerance"/> of <paramref name="now"/>. Compared in constant time.</summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        string? timestamp = null;
        string? signature = null;
        foreach (var part in (header ?? string.Empty).Split(','))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                timestamp = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                signature = part[3..];
            }
        }

        if (timestamp is null || signature is null
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > 253_402_300_799
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Tolerance)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, Mac(secret, timestamp, body));
    }

    private static byte[] Mac(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
