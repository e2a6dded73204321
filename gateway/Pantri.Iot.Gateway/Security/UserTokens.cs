using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Security;

/// <summary>The embedded token issuer: an HMAC key created once in the data directory, used to sign
/// <c>User_Auth</c> tokens and to validate them. A missing key is made only for a new installation: once the database
/// holds data, tokens signed with the key exist, and a silently replaced key would make every one of them invalid — the
/// gateway refuses to start instead, unless <see cref="AuthOptions.RegenerateSigningKey"/> (or an external
/// <see cref="AuthOptions.Authority"/>) says otherwise. A damaged key file is refused the same way.</summary>
public sealed class UserTokens
{
    /// <summary>Name of the key file in the data directory.</summary>
    public const string FileName = "jwt-signing.key";

    /// <summary>Smallest key accepted: HMAC-SHA256 wants at least 256 bits.</summary>
    private const int MinimumKeyBytes = 32;

    private readonly AuthOptions _auth;
    private readonly TimeProvider _time;

    /// <summary>Loads the signing key, or creates it for a new installation.</summary>
    /// <exception cref="GatewayStartupException">The key is missing while <paramref name="store"/> holds data, or damaged.</exception>
    public UserTokens(IOptions<GatewayOptions> gateway, IOptions<AuthOptions> auth, TimeProvider time, IGatewayStore store)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(store);
        _auth = auth.Value;
        _time = time;
        var path = Path.GetFullPath(Path.Combine(gateway.Value.DataDirectory, FileName));
        SigningKey = new SymmetricSecurityKey(LoadOrCreate(path, _auth, store));
    }

    /// <summary>The signing key of the data directory <paramref name="dataDirectory"/> as stored there, or null when it
    /// is missing or damaged (the command line reads it to sign an installation-admin token for a running gateway).</summary>
    public static SymmetricSecurityKey? ReadKey(string dataDirectory) =>
        TryRead(Path.Combine(dataDirectory, FileName), out var key, out _) ? new SymmetricSecurityKey(key) : null;

    /// <summary>The key embedded tokens are signed with.</summary>
    public SymmetricSecurityKey SigningKey { get; }

    /// <summary>Issues a <c>User_Auth</c> token for a user of an account, valid for the configured lifetime.</summary>
    public string Issue(string subject, string accountId) => Issue(subject, accountId, _auth.TokenLifetime);

    /// <summary>Issues a <c>User_Auth</c> token for a user of an account, valid for <paramref name="lifetime"/>
    /// (capped at <see cref="AuthOptions.MaxTokenLifetime"/>).</summary>
    public string Issue(string subject, string accountId, TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), "a token lifetime must be positive");
        }

        lifetime = lifetime > _auth.MaxTokenLifetime ? _auth.MaxTokenLifetime : lifetime;
        var now = _time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _auth.Issuer,
            Audience = _auth.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim(_auth.AccountClaim, accountId)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256),
        });
    }

    private static byte[] LoadOrCreate(string path, AuthOptions auth, IGatewayStore store)
    {
        if (File.Exists(path))
        {
            if (TryRead(path, out var key, out var problem))
            {
                return key;
            }

            if (!auth.RegenerateSigningKey)
            {
                throw new GatewayStartupException(
                    $"The signing key {path} is damaged ({problem}). Restore it from a backup, or set " +
                    "Pantri:Auth:RegenerateSigningKey=true to make a new one (every User_Auth issued so far is then refused).");
            }
        }
        else if (!auth.RegenerateSigningKey && string.IsNullOrEmpty(auth.Authority) && store.LoadMeta() is not null)
        {
            throw new GatewayStartupException(
                $"The signing key {path} is missing, but the database already holds data: every User_Auth issued with " +
                "that key would be refused. Restore the file from a backup, or set Pantri:Auth:RegenerateSigningKey=true " +
                "to make a new key (users then sign in again).");
        }

        var created = RandomNumberGenerator.GetBytes(MinimumKeyBytes);
        Write(path, created);
        return created;
    }

    private static bool TryRead(string path, out byte[] key, out string problem)
    {
        key = [];
        if (!File.Exists(path))
        {
            problem = "missing";
            return false;
        }

        var text = File.ReadAllText(path).Trim();
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var length))
        {
            problem = "not Base64";
            return false;
        }

        if (length < MinimumKeyBytes)
        {
            problem = $"{length} bytes, at least {MinimumKeyBytes} needed";
            return false;
        }

        key = buffer[..length];
        problem = string.Empty;
        return true;
    }

    // Written to a temporary file, flushed, then renamed: a crash leaves the old file or the new one, never half a key.
    private static void Write(string path, byte[] key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
