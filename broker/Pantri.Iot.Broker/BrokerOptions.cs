using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Pantri.Iot.Broker;

/// <summary>Settings of the embedded MQTT broker, bound from <c>Pantri:Mqtt</c>.</summary>
public sealed class BrokerOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Mqtt";

    /// <summary>TCP port for MQTT (default 1883; 0 picks a free port).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Whether plain (unencrypted) MQTT listens on <see cref="Port"/> (default true, for the loopback
    /// quickstart). Turn it off once devices use MQTT over TLS, so no device key crosses the network in clear text.</summary>
    public bool PlainTcp { get; set; } = true;

    /// <summary>Address to listen on (default all interfaces).</summary>
    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest MQTT packet accepted, header included (default 4096). A bigger one closes the connection
    /// before its body is read, so a forged length cannot make the broker allocate it.</summary>
    [Range(128, 268_435_455)]
    public int MaxPacketSize { get; set; } = 4096;

    /// <summary>Most simultaneous TCP connections (default 100,000); more are closed at accept. Lowered at start to
    /// the process's open-file limit minus a reserve for files and HTTP (a quarter of the limit, 64 to 1,024), and the
    /// cap in force is logged.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>Most simultaneous TCP connections from one source address (default 1,000); more are closed at accept.
    /// Addresses in <see cref="ProxyAddresses"/> are not counted.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnectionsPerAddress { get; set; } = 1_000;

    /// <summary>How long a new TCP connection may take to deliver its whole CONNECT packet before it is closed
    /// (default 5 seconds; MQTTnet alone would wait 100 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Source addresses of TLS-terminating proxies in front of the broker (default none). Every connection
    /// through a proxy has the proxy's address, so these are exempt from <see cref="MaxConnectionsPerAddress"/> and
    /// from the per-address login throttle (the per-client-id throttle still applies).</summary>
    public IList<string> ProxyAddresses { get; init; } = [];

    /// <summary>Most topic filters one session may hold (default 32); a SUBSCRIBE beyond it is refused with SUBACK
    /// 0x97 quota exceeded (3.1.1: 0x80).</summary>
    [Range(1, 100_000)]
    public int MaxSubscriptionsPerClient { get; set; } = 32;

    /// <summary>Longest topic or topic filter accepted in a PUBLISH, SUBSCRIBE or Will, in characters (default 256).</summary>
    [Range(32, 65_535)]
    public int MaxTopicLength { get; set; } = 256;

    /// <summary>Wrong-key logins for one client id from one source address within a minute after which that client id
    /// is refused from that address for <see cref="LoginBackoff"/> (default 5), without checking the key.</summary>
    [Range(1, 1_000_000)]
    public int MaxLoginFailuresPerClientId { get; set; } = 5;

    /// <summary>Wrong-key logins from one source address (any client id) within a minute after which that address is
    /// refused for <see cref="LoginBackoff"/> (default 20), without checking the key.</summary>
    [Range(1, 1_000_000)]
    public int MaxLoginFailuresPerAddress { get; set; } = 20;

    /// <summary>How long a throttled client id or address is refused (default 1 minute): CONNACK 0x9F connection
    /// rate exceeded (3.1.1: 0x03 server unavailable).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LoginBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Refusals of one kind logged one line each per minute (default 10); the rest are counted and summed up
    /// in one line at the end of the minute.</summary>
    [Range(0, 1_000_000)]
    public int RefusalLogLinesPerMinute { get; set; } = 10;

    /// <summary>Most messages queued for one client before the oldest is dropped (default 256; drops are logged).</summary>
    [Range(1, 100_000)]
    public int MaxPendingMessagesPerClient { get; set; } = 256;

    /// <summary>Username of the ops credential; unset = no ops login. Ops clients connect with a client id starting
    /// <c>ops-</c>.</summary>
    public string? OpsUsername { get; set; }

    /// <summary>Password of the ops credential: at least 16 characters, because a person chooses it and it is the one
    /// credential that sees every household. Give it through the environment (<c>Pantri__Mqtt__OpsPassword</c>) or a
    /// configuration file, not on the command line, where any local user can read it.</summary>
    [MinLength(16, ErrorMessage = "Pantri:Mqtt:OpsPassword must have at least 16 characters (e.g. openssl rand -base64 24).")]
    public string? OpsPassword { get; set; }

    /// <summary>Password of the provisioning identity (username <c>provision</c>, client ids <c>prov-…</c>); unset = none
    /// is asked for, the pairing code alone is the secret. Set it to keep devices that do not carry it (firmware of
    /// another maker) from even trying codes.</summary>
    [MinLength(16, ErrorMessage = "Pantri:Mqtt:ProvisioningPassword must have at least 16 characters.")]
    public string? ProvisioningPassword { get; set; }

    /// <summary>How long a provisioning connection may stay (default 60 s): it is closed then, done or not.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ProvisioningConnectionTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Pairing-code attempts one provisioning connection may make (default 3); the next one closes it.</summary>
    [Range(1, 100)]
    public int ProvisioningAttemptsPerConnection { get; set; } = 3;

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            yield return new ValidationResult($"BindAddress '{BindAddress}' is not an IP address.", [nameof(BindAddress)]);
        }

        foreach (var address in ProxyAddresses)
        {
            if (!IPAddress.TryParse(address, out _))
            {
                yield return new ValidationResult($"ProxyAddresses entry '{address}' is not an IP address.", [nameof(ProxyAddresses)]);
            }
        }
    }

    /// <summary><see cref="ProxyAddresses"/>, parsed (IPv4-mapped IPv6 addresses as IPv4).</summary>
    internal IReadOnlySet<IPAddress> ParsedProxyAddresses() =>
        ProxyAddresses.Select(a => IPAddress.Parse(a)).Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToHashSet();
}
