using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary>The answer to every device or app command. <c>CommandRef</c>, <c>ID</c> and <c>Status</c> never change
/// meaning; the other fields are present when they apply.</summary>
public sealed record Acknowledgement
{
    /// <summary>Names this processed command.</summary>
    [JsonPropertyName(FieldNames.CommandRef)]
    public required long CommandRef { get; init; }

    /// <summary>200, 201, 400, 401 (HTTP only), 403, 404, 409, 429 or 503 (see <see cref="AckIds"/>).</summary>
    [JsonPropertyName(FieldNames.Id)]
    public required int Id { get; init; }

    /// <summary><c>Done</c> or <c>Didn't do - reason</c>.</summary>
    [JsonPropertyName(FieldNames.Status)]
    public required string Status { get; init; }

    /// <summary>The instruction the command was about, when known.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public long? InstructionRef { get; init; }

    /// <summary>The device's RequestId, echoed.</summary>
    [JsonPropertyName(FieldNames.RequestId)]
    public string? RequestId { get; init; }

    /// <summary>The order this command placed (201) or the open order that blocked it (409).</summary>
    public long? OrderRef { get; init; }

    /// <summary>Level after a level/usage report.</summary>
    [JsonPropertyName(FieldNames.Level)]
    public double? Level { get; init; }

    /// <summary>Trigger point of a tracked instruction.</summary>
    public double? ReorderAt { get; init; }

    /// <summary>Unit of the level.</summary>
    public string? Unit { get; init; }

    /// <summary>Whether a low level will place an order.</summary>
    public bool? Armed { get; init; }

    /// <summary>Why a low report placed no order, when it could have.</summary>
    public string? Note { get; init; }

    /// <summary>Forecast after a level/usage report.</summary>
    public Forecast? Forecast { get; init; }

    /// <summary>True when this ack is a replay of an earlier one (same RequestId).</summary>
    public bool? Replayed { get; init; }

    /// <summary>True for 200/201.</summary>
    [JsonIgnore]
    public bool IsSuccess => AckIds.IsSuccess(Id);
}
