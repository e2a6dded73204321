using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>Where devices connect, bound from <c>Pantri:Broker</c>. With <see cref="BrokerMode.External"/> the
/// gateway is an MQTT 5 client of that broker and the <c>Pantri:Mqtt</c> listener settings do not apply.</summary>
public sealed class ExternalBrokerOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Broker";

    /// <summary>Embedded (default) or External.</summary>
    public BrokerMode Mode { get; set; } = BrokerMode.Embedded;

    /// <summary>Host name or address of the external broker (default localhost).</summary>
    [Required]
    public string Host { get; set; } = "localhost";

    /// <summary>Its MQTT port (default 1883; 8883 is usual with TLS).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Connect with TLS, validating the broker's certificate against the system's trust store (default false).</summary>
    public bool UseTls { get; set; }

    /// <summary>The gateway's user at the broker (default <c>pantri-gateway</c>, as the README creates it).</summary>
    [Required]
    public string Username { get; set; } = "pantri-gateway";

    /// <summary>Its password; give it through the environment (<c>Pantri__Broker__Password</c>), not the command line.</summary>
    public string? Password { get; set; }

    /// <summary>The shared subscription group every gateway instance joins (default <c>pantri-gateway</c>): the
    /// broker hands each request to one member of the group.</summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9_-]{1,64}\z")]
    public string ShareGroup { get; set; } = "pantri-gateway";

    /// <summary>Manage device credentials in Mosquitto's dynamic security plugin through
    /// <c>$CONTROL/dynamic-security/v1</c> (default true). Turn off for brokers that authenticate otherwise.</summary>
    public bool MosquittoDynamicSecurity { get; set; } = true;

    /// <summary>Most device requests one instance has taken from the broker and not yet answered (default 1,000; the
    /// MQTT 5 Receive Maximum it announces, so the broker holds the rest back).</summary>
    [Range(1, 65_535)]
    public int MaxInFlight { get; set; } = 1_000;

    /// <summary>How long a call to the dynamic security plugin may take before it fails (default 10 seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ControlTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The shared secret an external broker presents (<c>Authorization: Bearer …</c>) when it calls
    /// <c>POST /v1/broker/authenticate</c> and <c>/v1/broker/authorize</c>; those endpoints exist only in External
    /// mode with this set (at least 32 characters; give it through the environment, <c>Pantri__Broker__HttpAuthSecret</c>).</summary>
    [MinLength(32, ErrorMessage = "Pantri:Broker:HttpAuthSecret must have at least 32 characters (e.g. openssl rand -base64 33).")]
    public string? HttpAuthSecret { get; set; }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Mode == BrokerMode.External && string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Pantri:Broker:Password is required with Mode=External.", [nameof(Password)]);
        }
    }
}
