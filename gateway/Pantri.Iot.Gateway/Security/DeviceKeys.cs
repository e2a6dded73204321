using System.Security.Cryptography;
using System.Text;

namespace Pantri.Iot.Gateway.Security;

/// <summary>Device keys: 192 random bits shown once, stored as SHA-256. A fast hash is enough for a key with that
/// much entropy (no dictionary to try), and it lets an HTTP request find its device from the key alone.</summary>
public static class DeviceKeys
{
    /// <summary>A new random key (URL-safe Base64, 32 characters).</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    /// <summary>The stored form of a key.</summary>
    public static string Hash(string key) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Constant-time comparison of a key with a stored hash.</summary>
    public static bool Matches(string key, string storedHash)
    {
        Span<byte> expected = stackalloc byte[32];
        if (!Convert.TryFromBase64String(storedHash, expected, out var written) || written != 32)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(key)), expected);
    }
}
