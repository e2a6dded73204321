namespace Pantri.Iot.Domain;

/// <summary>An amount used at a time: a usage report, or the drop between two level readings.</summary>
public sealed class UsageSample
{
    /// <summary>When it was reported.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>How much was used.</summary>
    public double Used { get; set; }
}
