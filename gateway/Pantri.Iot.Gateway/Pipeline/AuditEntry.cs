namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>One line of the audit log: who changed what of a household, and when. Written in the same commit as the
/// change, by the unit of work, for every setup command (never for device commands: the order history is their log).</summary>
public sealed class AuditEntry
{
    /// <summary>Storage id (increasing).</summary>
    public long Id { get; set; }

    /// <summary>The household whose state changed (empty for installation-wide changes: ops users).</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Who: the user (<c>sub</c>), <c>cli</c>, <c>provisioning:{client id}</c> or <c>gateway</c>.</summary>
    public string By { get; set; } = string.Empty;

    /// <summary>The setup call (<c>RotateDeviceKey</c>, <c>CreateInstruction</c>…).</summary>
    public string Action { get; set; } = string.Empty;

    /// <summary>What it changed: <c>device d-…</c>, <c>instruction 123</c>, <c>household smith</c>, <c>user alice</c>….</summary>
    public string Subject { get; set; } = string.Empty;

    /// <summary><c>changed</c> (created or updated) or <c>removed</c>.</summary>
    public string Change { get; set; } = string.Empty;
}

/// <summary>A writer command whose changes are audited, and on whose behalf it runs.</summary>
public interface IAuditedCommand
{
    /// <summary>Who asked (see <see cref="AuditEntry.By"/>).</summary>
    string By { get; }
}
