using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>Reads an instruction's household, product and unit on the writer thread (the ledger belongs to it).</summary>
/// <param name="InstructionRef">The instruction.</param>
internal sealed record InstructionLookup(long InstructionRef) : IWriterCommand<InstructionLookup.Info?>
{
    /// <inheritdoc/>
    public Info? Execute(UnitOfWork work) =>
        work.Ledger.Instructions.TryGetValue(InstructionRef, out var instruction)
            ? new Info(instruction.AccountId, instruction.Product, instruction.Tracking?.Unit)
            : null;

    /// <inheritdoc/>
    public Info? Unavailable(long commandRef) => null;

    /// <summary>What the bridge needs to know of an instruction.</summary>
    internal sealed record Info(string AccountId, string Product, string? Unit);
}
