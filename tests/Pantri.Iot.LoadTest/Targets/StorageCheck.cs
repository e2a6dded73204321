namespace Pantri.Iot.LoadTest.Targets;

/// <summary>What F's storage holds after a run.</summary>
/// <param name="AckedCommands">Acked CommandRefs looked up.</param>
/// <param name="MissingCommands">Of those, not found in storage (must be 0: an ack means committed).</param>
/// <param name="Orders">Orders in the bench account.</param>
/// <param name="InstructionsWithDuplicateOrders">Instructions with two orders open at once (must be 0).</param>
/// <param name="InstructionsReordered">Instructions ordered again after their order closed (the sandbox delivers
/// orders, so a run that presses an instruction again after that places a new order, as it should).</param>
public sealed record StorageCheck(int AckedCommands, int MissingCommands, int Orders, int InstructionsWithDuplicateOrders, int InstructionsReordered);
