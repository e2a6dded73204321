namespace Pantri.Iot.Gateway.Setup;

/// <summary>The demo household, bound from <c>Pantri:Demo</c>.</summary>
public sealed class DemoOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Demo";

    /// <summary>Create the demo household on first start (default true). <c>false</c> for an installation that serves
    /// real households only; <c>Pantri:CreateDemoHousehold=false</c>, the older name, switches it off too.</summary>
    public bool Enabled { get; set; } = true;
}
