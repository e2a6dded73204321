namespace Pantri.Iot.Domain;

/// <summary>A change the ledger made to household state. The ledger records one for every change it makes, in
/// order; the gateway's unit of work turns them into storage writes and outbound messages, so no caller has to keep
/// state, storage and notifications in step by hand.</summary>
public abstract record LedgerChange;

/// <summary>A device was created or its credentials changed.</summary>
/// <param name="Device">The device as it is now.</param>
public sealed record DeviceChanged(Device Device) : LedgerChange;

/// <summary>An instruction was created or changed (product, pairing, tracking settings, level).</summary>
/// <param name="Instruction">The instruction as it is now.</param>
public sealed record InstructionChanged(Instruction Instruction) : LedgerChange;

/// <summary>A household's safeguards changed (settings, or what it spent this month).</summary>
/// <param name="Safeguards">The safeguards as they are now.</param>
public sealed record HouseholdSafeguardsChanged(HouseholdSafeguards Safeguards) : LedgerChange;

/// <summary>An order was placed or moved to another state.</summary>
/// <param name="Order">The order as it is now.</param>
/// <param name="Instruction">Its instruction, when it still exists (for the devices paired with it).</param>
/// <param name="Publish">False for bookkeeping nobody outside needs to see (the dispatcher noting that it sends it).</param>
public sealed record OrderChanged(Order Order, Instruction? Instruction, bool Publish = true) : LedgerChange;

/// <summary>A household was created, renamed or deleted.</summary>
/// <param name="Household">The household as it is now.</param>
/// <param name="Removed">True when it was deleted.</param>
public sealed record HouseholdChanged(Household Household, bool Removed) : LedgerChange;

/// <summary>A user (or operator) was added, changed or removed.</summary>
/// <param name="User">The user as it is now.</param>
/// <param name="Removed">True when it was removed.</param>
public sealed record UserChanged(HouseholdUser User, bool Removed) : LedgerChange;

/// <summary>An instruction was deleted; its orders stay.</summary>
/// <param name="Instruction">The instruction as it was.</param>
public sealed record InstructionRemoved(Instruction Instruction) : LedgerChange;

/// <summary>A pairing code was made, or used up / expired (removed).</summary>
/// <param name="Code">The code as it is now.</param>
/// <param name="Removed">True when it was removed.</param>
public sealed record PairingCodeChanged(PairingCode Code, bool Removed) : LedgerChange;
