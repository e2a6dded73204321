using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Pairing;

/// <summary>Pairing codes and how hard guessing them is made, bound from <c>Pantri:Pairing</c>.</summary>
public sealed class PairingOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Pairing";

    /// <summary>How long a code works (default 10 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wrong codes one source address may send within <see cref="FailureWindow"/> (default 5); after that the
    /// address is refused (429, without looking at the code) for <see cref="BlockTime"/>.</summary>
    [Range(1, 1000)]
    public int FailuresPerAddress { get; set; } = 5;

    /// <summary>Window of <see cref="FailuresPerAddress"/> (default 10 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an address that sent a burst of wrong codes is refused (default 10 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan BlockTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wrong codes the whole installation accepts per minute, from all addresses together (default 60): beyond
    /// it every attempt is refused until the minute is over, so guessing from many addresses gains nothing.</summary>
    [Range(1, 100000)]
    public int FailuresPerMinute { get; set; } = 60;
}
