using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Security;

/// <summary>How <c>User_Auth</c> tokens are validated, bound from <c>Pantri:Auth</c>. Without an Authority the
/// gateway signs and validates its own tokens with a key kept in the data directory.</summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Auth";

    /// <summary>An external OIDC issuer (e.g. the Pantri ID server); unset = embedded signing.</summary>
    public string? Authority { get; set; }

    /// <summary>With an external issuer: fetch its discovery document and keys over HTTPS only (default true). Turn off
    /// only for an issuer on the same machine or a private network you trust, e.g. a test identity provider.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Expected audience (default <c>pantri</c>).</summary>
    [Required]
    public string Audience { get; set; } = "pantri";

    /// <summary>Issuer of embedded tokens (default <c>pantri-embedded</c>).</summary>
    [Required]
    public string Issuer { get; set; } = "pantri-embedded";

    /// <summary>Claim that names the household (default <c>pantri_account</c>).</summary>
    [Required]
    public string AccountClaim { get; set; } = "pantri_account";

    /// <summary>With an external issuer: the claim that gives the user's role in the household (<c>owner</c>; any other
    /// value or none = member). Embedded tokens take the role from the household's users instead.</summary>
    [Required]
    public string RoleClaim { get; set; } = "pantri_role";

    /// <summary>When the embedded signing key (<c>{DataDirectory}/jwt-signing.key</c>) is missing or damaged although the
    /// database already holds data, make a new key instead of refusing to start (default false). Every <c>User_Auth</c>
    /// signed with the old key is then refused: users sign in again, and <c>demo-household.json</c>'s token no longer
    /// works. An intact key is never replaced.</summary>
    public bool RegenerateSigningKey { get; set; }

    /// <summary>Default lifetime of embedded tokens (30 days); the CLI's <c>token --days</c> chooses another, up to
    /// <see cref="MaxTokenLifetime"/>.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Longest lifetime a token may be issued with (365 days).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromDays(365);
}
