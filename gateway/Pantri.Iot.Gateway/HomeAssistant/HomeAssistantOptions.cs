using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>The optional Home Assistant bridge, bound from <c>Pantri:HomeAssistant</c>: an MQTT client to the
/// household's Home Assistant broker that publishes MQTT discovery configs and states for one household's
/// instructions. Off by default.</summary>
public sealed partial class HomeAssistantOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:HomeAssistant";

    /// <summary>Turns the bridge on (default false).</summary>
    public bool Enabled { get; set; }

    /// <summary>The household whose instructions appear in Home Assistant (required when on): a bridge never
    /// publishes another household's data.</summary>
    public string? AccountId { get; set; }

    /// <summary>Host name or address of Home Assistant's MQTT broker (required when on).</summary>
    public string? Host { get; set; }

    /// <summary>Port of that broker (default 1883; 8883 with <see cref="UseTls"/>).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Username on that broker (optional).</summary>
    public string? Username { get; set; }

    /// <summary>Password on that broker (optional; give it through the environment).</summary>
    public string? Password { get; set; }

    /// <summary>Connect with TLS (default false).</summary>
    public bool UseTls { get; set; }

    /// <summary>PEM CA to trust for TLS instead of the system's (optional).</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Client id on that broker (default <c>pantri-gateway</c>).</summary>
    [Required]
    public string ClientId { get; set; } = "pantri-gateway";

    /// <summary>Home Assistant's discovery prefix (default <c>homeassistant</c>).</summary>
    [Required]
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>The node id in the discovery topics (default <c>pantri</c>).</summary>
    [Required]
    public string NodeId { get; set; } = "pantri";

    /// <summary>Where states and the bridge's availability are published (default <c>pantri</c>:
    /// <c>pantri/{Instruction_Ref}/inventory</c>, <c>pantri/{Instruction_Ref}/order</c>, <c>pantri/status</c>).</summary>
    [Required]
    public string StatePrefix { get; set; } = "pantri";

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(AccountId))
        {
            yield return new ValidationResult("Pantri:HomeAssistant:AccountId is required: the household whose instructions Home Assistant sees.", [nameof(AccountId)]);
        }

        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return new ValidationResult("Pantri:HomeAssistant:Host is required: Home Assistant's MQTT broker.", [nameof(Host)]);
        }

        if (!IdPattern().IsMatch(NodeId))
        {
            yield return new ValidationResult("Pantri:HomeAssistant:NodeId may hold only letters, digits, '_' and '-'.", [nameof(NodeId)]);
        }

        foreach (var (name, value) in new[] { (nameof(DiscoveryPrefix), DiscoveryPrefix), (nameof(StatePrefix), StatePrefix) })
        {
            if (!TopicPattern().IsMatch(value))
            {
                yield return new ValidationResult($"Pantri:HomeAssistant:{name} must be a topic of letters, digits, '_', '-' and inner '/' (no wildcards).", [name]);
            }
        }
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\z")]
    private static partial Regex TopicPattern();
}
