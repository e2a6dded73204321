namespace Pantri.Iot.Gateway.Storage;

/// <summary>One processed command and the ack it got: the audit trail, and what a repeated RequestId replays.</summary>
public sealed class CommandRecord
{
    /// <summary>The sequence number behind the CommandRef (document id), set by the writer: the log grows in order,
    /// so inserts append instead of landing on random index pages.</summary>
    public long Sequence { get; set; }

    /// <summary>The CommandRef the device saw.</summary>
    public long CommandRef { get; set; }

    /// <summary>"{actor}\n{RequestId}" when the command carried a RequestId.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Hash of <see cref="IdempotencyKey"/>, indexed in chunks by <see cref="CommandKeyIndex"/> (LiteDB) or
    /// not used (PostgreSQL indexes the key itself).</summary>
    public long? KeyHash { get; set; }

    /// <summary>The device, or null for an app user.</summary>
    public string? DeviceId { get; set; }

    /// <summary>The account, when known.</summary>
    public string? AccountId { get; set; }

    /// <summary>trigger, level, usage.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>When it was processed.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>The ack as sent: the same UTF-8 JSON bytes the device got, replayed as they are.</summary>
    public byte[] Ack { get; set; } = [];
}
