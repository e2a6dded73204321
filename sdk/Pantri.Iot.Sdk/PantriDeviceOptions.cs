using System.ComponentModel.DataAnnotations;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Sdk;

/// <summary>Settings of a <see cref="PantriDeviceClient"/>, bound from <c>Pantri:Device</c> by
/// <see cref="PantriDeviceHostingExtensions.AddPantriDevice"/>. Every default is the one named here.</summary>
/// <remarks>The <see cref="DeviceKey"/> is a secret: the SDK never logs it, and <see cref="ToString"/> leaves it out.</remarks>
public sealed class PantriDeviceOptions : IValidatableObject
{
    /// <summary>Configuration section: <c>Pantri:Device</c> (<c>Pantri__Device__Host</c> as an environment variable).</summary>
    public const string SectionName = "Pantri:Device";

    /// <summary>Host name or address of the gateway's MQTT listener (default <c>127.0.0.1</c>).</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>MQTT port (default 1883; 8883 is usual behind a TLS terminator).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>Connect with TLS (default false: the gateway itself speaks plain MQTT; put TLS in front of it).</summary>
    public bool UseTls { get; set; }

    /// <summary>With <see cref="UseTls"/>: a PEM file with the certificate authority (or the self-signed certificate)
    /// the gateway's certificate must chain to, instead of the system's trust store (default none).</summary>
    public string? TlsCaCertificatePath { get; set; }

    /// <summary>With <see cref="UseTls"/>: the name the gateway's certificate must carry (default <see cref="Host"/>).</summary>
    public string? TlsTargetHost { get; set; }

    /// <summary>The device's id: MQTT client id and username (<c>^[a-z0-9][a-z0-9-]{2,63}$</c>).</summary>
    [Required]
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>The device's secret (<c>Device_Key</c>), the MQTT password. Never logged.</summary>
    [Required]
    public string DeviceKey { get; set; } = string.Empty;

    /// <summary>MQTT 5 (default: acks come back on a response topic with the correlation data) or MQTT 3.1.1 (acks on
    /// <c>…/ack</c>).</summary>
    public PantriProtocolVersion ProtocolVersion { get; set; } = PantriProtocolVersion.Mqtt5;

    /// <summary>How long one connection attempt may take, TCP, TLS and CONNACK included (default 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a command call waits for its acknowledgement before it throws
    /// <see cref="PantriAckTimeoutException"/> (default 10 s). The command itself stays queued and is still delivered;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until it is.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the SDK waits for the ack of a command it sent before sending it again, with the same
    /// RequestId, on the same connection (default 5 s). A resend is harmless: the gateway replays the first ack.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan ResendInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>MQTT keep-alive (default 30 s): a dead connection is noticed within about one and a half periods.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay of the exponential backoff (with jitter) between reconnect attempts, and between resends
    /// of a command the gateway answered 429 or 503 (default 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay of that backoff (default 60 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The durable queue file (default none: commands are queued in memory only and a restart loses those
    /// not yet acknowledged). Set it on a real device, e.g. <c>/var/lib/pantri/demo-button.queue</c>; the directory
    /// is created, and the file is locked so that one process uses it at a time.</summary>
    public string? QueuePath { get; set; }

    /// <summary>Most commands waiting for their ack (default 256). When it is full, a new command is refused with
    /// <see cref="PantriQueueFullException"/> and the ones already queued are kept: nothing accepted is dropped.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!DeviceIds.IsValid(DeviceId))
        {
            yield return new ValidationResult("DeviceId must match ^[a-z0-9][a-z0-9-]{2,63}$", [nameof(DeviceId)]);
        }

        if (AckTimeout != Timeout.InfiniteTimeSpan && AckTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("AckTimeout must be positive or Timeout.InfiniteTimeSpan", [nameof(AckTimeout)]);
        }

        if (MaxRetryDelay < RetryDelay)
        {
            yield return new ValidationResult("MaxRetryDelay must not be shorter than RetryDelay", [nameof(MaxRetryDelay)]);
        }

        if (TlsCaCertificatePath is not null && !UseTls)
        {
            yield return new ValidationResult("TlsCaCertificatePath needs UseTls", [nameof(TlsCaCertificatePath)]);
        }
    }

    /// <summary>The endpoint and device, without the key.</summary>
    public override string ToString() =>
        $"{DeviceId}@{(UseTls ? "mqtts" : "mqtt")}://{Host}:{Port} ({ProtocolVersion})";

    internal PantriDeviceOptions Snapshot() => (PantriDeviceOptions)MemberwiseClone();

    internal void ThrowIfInvalid()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            throw new ArgumentException("Invalid PantriDeviceOptions: " + string.Join("; ", results.Select(r => r.ErrorMessage)), "options");
        }
    }
}

/// <summary>The MQTT version a <see cref="PantriDeviceClient"/> speaks.</summary>
public enum PantriProtocolVersion
{
    /// <summary>MQTT 5.0: each command names a response topic inside the device's namespace, and its ack comes back
    /// there with the correlation data echoed.</summary>
    Mqtt5,

    /// <summary>MQTT 3.1.1: acks arrive on <c>pantri/v1/devices/{DeviceId}/ack</c> and are matched by RequestId.</summary>
    Mqtt311,
}
