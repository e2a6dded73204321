namespace Pantri.Iot.LoadTest.Targets;

/// <summary>What F's storage holds after a run.</summary>
/// <param name="AckedCommands">Acked CommandRefs looked up.</param>
/// <param name="MissingCommands">Of those, not found in storage (must be 0: an ack means committed).</param>
/// <param name="Orders">Orders in the bench account.</param>
/// <param name="InstructionsWithDuplicateOrders">Instructions with more than one order (must be 0 in these runs).</param>
public sealed record StorageCheck(int AckedCommands, int MissingCommands, int Orders, int InstructionsWithDuplicateOrders);
