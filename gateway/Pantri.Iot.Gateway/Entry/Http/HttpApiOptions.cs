using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Bounds of the HTTP API under <c>/v1/</c>, bound from <c>Pantri:Http</c>.</summary>
public sealed class HttpApiOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Http";

    /// <summary>Largest request body under <c>/v1/</c>, in bytes; a larger one is refused with 413 before it is read
    /// (default 16,384).</summary>
    [Range(1024, 1_048_576)]
    public int MaxRequestBodyBytes { get; set; } = 16 * 1024;

    /// <summary>Sustained setup calls (every <c>/v1/</c> call made with <c>User_Auth</c> except
    /// <c>POST /v1/trigger</c>, which has its own per-account limit) one household may make per minute; above it and
    /// its burst: 429 with <c>Retry-After</c> (default 600).</summary>
    [Range(1, 1_000_000)]
    public int SetupRequestsPerMinute { get; set; } = 600;

    /// <summary>Setup calls one household may make in a burst above the sustained rate (default 200).</summary>
    [Range(1, 1_000_000)]
    public int SetupRequestBurst { get; set; } = 200;
}
