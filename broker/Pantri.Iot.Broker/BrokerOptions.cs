using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Broker;

/// <summary>Settings of the embedded MQTT broker, bound from <c>Pantri:Mqtt</c>.</summary>
public sealed class BrokerOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Mqtt";

    /// <summary>TCP port for MQTT (default 1883; 0 picks a free port).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Address to listen on (default all interfaces).</summary>
    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest MQTT packet accepted, header included (default 4096). A bigger one closes the connection
    /// before its body is read, so a forged length cannot make the broker allocate it.</summary>
    [Range(128, 268_435_455)]
    public int MaxPacketSize { get; set; } = 4096;

    /// <summary>Most simultaneous TCP connections (default 100,000); more are closed at accept.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>Most messages queued for one client before the oldest is dropped (default 256; drops are logged).</summary>
    [Range(1, 100_000)]
    public int MaxPendingMessagesPerClient { get; set; } = 256;

    /// <summary>Username of the ops credential; unset = no ops login.</summary>
    public string? OpsUsername { get; set; }

    /// <summary>Password of the ops credential.</summary>
    public string? OpsPassword { get; set; }
}
