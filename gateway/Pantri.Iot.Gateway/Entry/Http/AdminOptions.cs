using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The operator's admin credential, bound from <c>Pantri:Admin</c>. A stand-in until users with an ops role
/// exist: one configured key, sent in the <c>Pantri-Admin-Key</c> header.</summary>
public sealed class AdminOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Admin";

    /// <summary>The admin key (at least 32 characters, e.g. <c>openssl rand -base64 33</c>); unset = no admin
    /// endpoints (they answer 404). Give it through the environment (<c>Pantri__Admin__Key</c>) or a file, never on the
    /// command line.</summary>
    [MinLength(32, ErrorMessage = "Pantri:Admin:Key must have at least 32 characters (e.g. openssl rand -base64 33).")]
    public string? Key { get; set; }
}
