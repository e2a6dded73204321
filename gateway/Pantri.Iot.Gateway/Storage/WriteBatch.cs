using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Everything one group commit writes, in one transaction.</summary>
public sealed class WriteBatch
{
    /// <summary>Devices to upsert.</summary>
    public Dictionary<string, Device> Devices { get; } = new(StringComparer.Ordinal);

    /// <summary>Instructions to upsert (latest state wins).</summary>
    public Dictionary<long, Instruction> Instructions { get; } = [];

    /// <summary>Instructions to delete (their orders stay).</summary>
    public HashSet<long> InstructionsDeleted { get; } = [];

    /// <summary>Households to upsert, or to delete where the value is null.</summary>
    public Dictionary<string, Household?> Households { get; } = new(StringComparer.Ordinal);

    /// <summary>Users to upsert, or to delete where the value is null (by <see cref="HouseholdUser.Key"/>).</summary>
    public Dictionary<string, HouseholdUser?> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Pairing codes to upsert, or to delete where the value is null (by hash).</summary>
    public Dictionary<string, PairingCode?> PairingCodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Orders to upsert.</summary>
    public Dictionary<long, Order> Orders { get; } = [];

    /// <summary>Households' safeguards to upsert.</summary>
    public Dictionary<string, HouseholdSafeguards> Safeguards { get; } = new(StringComparer.Ordinal);

    /// <summary>Submissions to queue (orders placed in this batch).</summary>
    public Dictionary<long, OutboxEntry> Outbox { get; } = [];

    /// <summary>Queued submissions to delete (orders that left Placed in this batch).</summary>
    public HashSet<long> OutboxDone { get; } = [];

    /// <summary>Audit entries to insert.</summary>
    public List<AuditEntry> Audit { get; } = [];

    /// <summary>Commands to insert.</summary>
    public List<CommandRecord> Commands { get; } = [];

    /// <summary>Meta document to upsert, when it changed.</summary>
    public GatewayMeta? Meta { get; set; }

    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => Devices.Count == 0 && Instructions.Count == 0 && InstructionsDeleted.Count == 0 && Households.Count == 0 && Users.Count == 0 && PairingCodes.Count == 0 && Orders.Count == 0 && Safeguards.Count == 0 && Outbox.Count == 0 && OutboxDone.Count == 0 && Commands.Count == 0 && Audit.Count == 0 && Meta is null;

    /// <summary>Empties the batch for reuse.</summary>
    public void Clear()
    {
        Devices.Clear();
        Instructions.Clear();
        InstructionsDeleted.Clear();
        Households.Clear();
        Users.Clear();
        PairingCodes.Clear();
        Orders.Clear();
        Safeguards.Clear();
        Outbox.Clear();
        OutboxDone.Clear();
        Commands.Clear();
        Audit.Clear();
        Meta = null;
    }
}
