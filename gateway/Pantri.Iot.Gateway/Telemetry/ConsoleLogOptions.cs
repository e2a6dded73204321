using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Telemetry;

/// <summary>How the gateway writes its log to the console (<c>Pantri:Logging</c>).</summary>
public sealed class ConsoleLogOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pantri:Logging";

    /// <summary>Human-readable lines.</summary>
    public const string Text = "text";

    /// <summary>One compact JSON object per line (Serilog's CLEF: <c>@t</c>, <c>@mt</c>, <c>@l</c>, properties).</summary>
    public const string Json = "json";

    /// <summary><c>text</c> (default) or <c>json</c>. Ignored when <c>Serilog:WriteTo</c> configures the sinks
    /// itself: then the configuration owns every sink and the gateway adds none (so no line is written twice).</summary>
    [Required]
    [AllowedValues(Text, Json)]
    public string ConsoleFormat { get; set; } = Text;
}
