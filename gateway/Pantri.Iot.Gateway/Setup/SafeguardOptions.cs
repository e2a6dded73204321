using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>Household safeguards, bound from <c>Pantri:Safeguards</c>.</summary>
public sealed class SafeguardOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Safeguards";

    /// <summary>How long an order waits for the household's approval before it is cancelled ("approval expired";
    /// default 24 hours).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often orders awaiting approval are checked for expiry (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ExpiryCheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}
