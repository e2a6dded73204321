using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pantri.Iot.Gateway.Security;

/// <summary>The embedded token issuer: an HMAC key created once in the data directory, used to sign
/// <c>User_Auth</c> tokens and to validate them.</summary>
public sealed class UserTokens
{
    private readonly AuthOptions _auth;
    private readonly TimeProvider _time;

    /// <summary>Loads or creates the signing key.</summary>
    public UserTokens(IOptions<GatewayOptions> gateway, IOptions<AuthOptions> auth, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(auth);
        _auth = auth.Value;
        _time = time;
        var path = Path.Combine(gateway.Value.DataDirectory, "jwt-signing.key");
        Directory.CreateDirectory(gateway.Value.DataDirectory);
        if (!File.Exists(path))
        {
            File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        SigningKey = new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }

    /// <summary>The key embedded tokens are signed with.</summary>
    public SymmetricSecurityKey SigningKey { get; }

    /// <summary>Issues a <c>User_Auth</c> token for a user of an account.</summary>
    public string Issue(string subject, string accountId)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _auth.Issuer,
            Audience = _auth.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim(_auth.AccountClaim, accountId)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _auth.TokenLifetime,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256),
        });
    }
}
