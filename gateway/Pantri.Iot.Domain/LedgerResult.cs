using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain;

/// <summary>The outcome of one command against the ledger, before it is stored and acknowledged.</summary>
public sealed record LedgerResult
{
    /// <summary>The ack ID this outcome maps to (200, 201, 400, 403, 404, 409).</summary>
    public required int Id { get; init; }

    /// <summary>Why it was refused, for <c>Didn't do - reason</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>The instruction the command resolved to.</summary>
    public Instruction? Instruction { get; init; }

    /// <summary>The order this command placed.</summary>
    public Order? PlacedOrder { get; init; }

    /// <summary>The open order that blocked a new one.</summary>
    public Order? BlockingOrder { get; init; }

    /// <summary>Why a low report placed no order.</summary>
    public string? Note { get; init; }

    /// <summary>A refusal.</summary>
    public static LedgerResult Refused(int id, string reason, Instruction? instruction = null, Order? blocking = null) =>
        new() { Id = id, Reason = reason, Instruction = instruction, BlockingOrder = blocking };

    /// <summary>True for 200/201.</summary>
    public bool IsSuccess => AckIds.IsSuccess(Id);
}
