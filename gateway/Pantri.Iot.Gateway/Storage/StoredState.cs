using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>What the gateway loads at start: everything the ledger decides with.</summary>
/// <param name="Devices">All devices.</param>
/// <param name="Instructions">All instructions.</param>
/// <param name="OpenOrders">Orders not yet closed.</param>
/// <param name="Meta">Reference counters and keys.</param>
/// <param name="Safeguards">Households' safeguards (only households that set any).</param>
public sealed record StoredState(IReadOnlyList<Device> Devices, IReadOnlyList<Instruction> Instructions, IReadOnlyList<Order> OpenOrders, GatewayMeta Meta, IReadOnlyList<HouseholdSafeguards>? Safeguards = null)
{
    /// <summary>All households.</summary>
    public IReadOnlyList<Household> Households { get; init; } = [];

    /// <summary>All users and operators.</summary>
    public IReadOnlyList<HouseholdUser> Users { get; init; } = [];

    /// <summary>Pairing codes not yet used (some may have expired).</summary>
    public IReadOnlyList<PairingCode> PairingCodes { get; init; } = [];
}

/// <summary>Installation-wide values kept with the data.</summary>
public sealed class GatewayMeta
{
    /// <summary>Document id of the single meta document.</summary>
    public const string DocumentId = "meta";

    /// <summary>Always <see cref="DocumentId"/>.</summary>
    public string Id { get; set; } = DocumentId;

    /// <summary>Every reference sequence number below this may have been handed out.</summary>
    public long ReservedUpTo { get; set; }

    /// <summary>Secret that scrambles sequence numbers into references (Base64).</summary>
    public string RefKey { get; set; } = string.Empty;

    /// <summary>True once the demo household was created (never recreated).</summary>
    public bool DemoCreated { get; set; }
}
