using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Tls;

/// <summary>TLS for MQTT (its own port, 8883 by default) and for HTTPS/WSS (every <c>https://</c> address of
/// <c>--urls</c>), bound from <c>Pantri:Tls</c>. Off by default: the quickstart runs on loopback in plain text.</summary>
public sealed class TlsOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Tls";

    /// <summary>Turns TLS on (default false): MQTT over TLS on <see cref="MqttPort"/>, and Kestrel's <c>https://</c>
    /// addresses use the same certificate.</summary>
    public bool Enabled { get; set; }

    /// <summary>Port of MQTT over TLS (default 8883; 0 picks a free port).</summary>
    [Range(0, 65535)]
    public int MqttPort { get; set; } = 8883;

    /// <summary>Address MQTT over TLS listens on (default all interfaces), apart from <c>Pantri:Mqtt:BindAddress</c>
    /// so that plain MQTT can stay on loopback.</summary>
    [Required]
    public string MqttBindAddress { get; set; } = "0.0.0.0";

    /// <summary>PEM file with the server certificate, optionally followed by its intermediate certificates (a
    /// <c>fullchain.pem</c>). Unset: the generated certificate (see <see cref="GenerateSelfSigned"/>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file with the certificate's private key (PKCS#8, RSA or EC; unencrypted).</summary>
    public string? KeyPath { get; set; }

    /// <summary>When no <see cref="CertificatePath"/> is given: on first start, generate a private CA and a server
    /// certificate signed by it in <c>{DataDirectory}/tls/</c> (default false), and log the CA's path and SHA-256
    /// fingerprint for devices to trust or pin. Later starts reuse them; the server certificate is re-issued from the
    /// same CA when it nears its end or misses a name of <see cref="HostNames"/>.</summary>
    public bool GenerateSelfSigned { get; set; }

    /// <summary>Extra names (DNS names or IP addresses) for the generated server certificate, besides
    /// <c>localhost</c>, <c>127.0.0.1</c>, <c>::1</c>, the machine's host name and <c>{host name}.local</c>.</summary>
    public IList<string> HostNames { get; init; } = [];

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!System.Net.IPAddress.TryParse(MqttBindAddress, out _))
        {
            yield return new ValidationResult($"Pantri:Tls:MqttBindAddress '{MqttBindAddress}' is not an IP address.", [nameof(MqttBindAddress)]);
        }

        if (string.IsNullOrEmpty(CertificatePath) != string.IsNullOrEmpty(KeyPath))
        {
            yield return new ValidationResult("Pantri:Tls:CertificatePath and Pantri:Tls:KeyPath go together: set both PEM files, or neither.", [nameof(CertificatePath), nameof(KeyPath)]);
        }
        else if (string.IsNullOrEmpty(CertificatePath) && !GenerateSelfSigned)
        {
            yield return new ValidationResult("Pantri:Tls:Enabled needs a certificate: set Pantri:Tls:CertificatePath and Pantri:Tls:KeyPath, or Pantri:Tls:GenerateSelfSigned=true.", [nameof(CertificatePath)]);
        }

        foreach (var name in HostNames)
        {
            if (!ServerCertificates.IsValidName(name))
            {
                yield return new ValidationResult($"Pantri:Tls:HostNames entry '{name}' is neither a DNS name nor an IP address.", [nameof(HostNames)]);
            }
        }
    }
}
