using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>What other gateway instances stored since this one last looked (<see cref="ISharedGatewayStore.BeginBatch"/>).</summary>
/// <param name="Devices">Devices created or changed.</param>
/// <param name="Instructions">Instructions created or changed.</param>
/// <param name="Orders">Orders placed or moved (open or closed).</param>
/// <param name="CommandKeys">Idempotency keys of the commands they processed.</param>
/// <param name="ReservedUpTo">The ref reservation now stored.</param>
/// <param name="Safeguards">Households' safeguards changed (settings, or spending).</param>
/// <param name="SetupChanged">True when households, users, pairing codes or deleted instructions changed: the writer
/// reloads its whole state instead of taking in rows.</param>
public sealed record SharedChanges(
    IReadOnlyList<Device> Devices,
    IReadOnlyList<Instruction> Instructions,
    IReadOnlyList<Order> Orders,
    IReadOnlyList<(string Key, long Sequence, DateTimeOffset At)> CommandKeys,
    long ReservedUpTo,
    IReadOnlyList<HouseholdSafeguards>? Safeguards = null,
    bool SetupChanged = false);
