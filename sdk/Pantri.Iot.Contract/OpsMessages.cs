using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary>One processed command, as published on <c>pantri/v1/ops/events</c>.</summary>
public sealed record OpsEvent
{
    /// <summary>When the gateway processed it (UTC).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>trigger, level, usage (or http-trigger).</summary>
    public required string Kind { get; init; }

    /// <summary>The device, or null for an app user.</summary>
    public string? DeviceId { get; init; }

    /// <summary>The account it acted for, when known.</summary>
    public string? AccountId { get; init; }

    /// <summary>The acknowledgement the command got.</summary>
    public required Acknowledgement Ack { get; init; }
}

/// <summary>Retained presence of a device on <c>pantri/v1/ops/devices/{DeviceId}</c>.</summary>
public sealed record DevicePresence
{
    /// <summary>The device.</summary>
    public required string DeviceId { get; init; }

    /// <summary><see cref="PresenceStatus.Online"/> or <see cref="PresenceStatus.Offline"/>.</summary>
    public required string Status { get; init; }

    /// <summary>When the device was last connected or active; null (left out of the JSON) when the gateway does not
    /// know, as after a gateway restart until the device connects again (<see cref="DisconnectReasons.GatewayRestarted"/>).</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>For offline: one of <see cref="DisconnectReasons"/>.</summary>
    public string? Reason { get; init; }
}

/// <summary>Retained inventory of a tracked instruction on <c>pantri/v1/ops/inventory/{Instruction_Ref}</c>.</summary>
public sealed record InventoryStatus
{
    /// <summary>The instruction.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public required long InstructionRef { get; init; }

    /// <summary>Current level, null until the first report.</summary>
    public double? Level { get; init; }

    /// <summary>Trigger point.</summary>
    public required double ReorderAt { get; init; }

    /// <summary>Unit of the level.</summary>
    public required string Unit { get; init; }

    /// <summary>Whether reaching the trigger point will order.</summary>
    public required bool Armed { get; init; }

    /// <summary>Expected time to the trigger point and to empty.</summary>
    public required Forecast Forecast { get; init; }

    /// <summary>When it last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>An order's state, as published on <c>pantri/v1/ops/orders/{OrderRef}</c> and
/// <c>pantri/v1/devices/{DeviceId}/orders</c>.</summary>
public sealed record OrderStatus
{
    /// <summary>The order.</summary>
    public required long OrderRef { get; init; }

    /// <summary>The instruction it re-orders.</summary>
    [JsonPropertyName(FieldNames.InstructionRef)]
    public required long InstructionRef { get; init; }

    /// <summary>AwaitingApproval, Placed, Submitted, Confirmed, Shipped, Delivered, Rejected, Failed or Cancelled.</summary>
    public required string State { get; init; }

    /// <summary>Who moved it last: household, retailer or gateway (absent in older messages).</summary>
    public string? Source { get; init; }

    /// <summary>Why it is in this state, when there is more to say (a retailer's refusal, a failure).</summary>
    public string? Reason { get; init; }

    /// <summary>Product to order.</summary>
    public required string Product { get; init; }

    /// <summary>Retailer to order from.</summary>
    public required string Retailer { get; init; }

    /// <summary>How many.</summary>
    public required int Quantity { get; init; }

    /// <summary>The command that placed it.</summary>
    public required long CommandRef { get; init; }

    /// <summary>When it last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the household asked to cancel it at a retailer that may already hold it; present until the
    /// retailer answers (accepted: the order becomes Cancelled; refused: see <see cref="CancelRefusal"/>).</summary>
    public DateTimeOffset? CancelRequestedAt { get; init; }

    /// <summary>The unit price the retailer quoted when it confirmed, in <see cref="Currency"/>.</summary>
    public decimal? UnitPrice { get; init; }

    /// <summary>The currency of <see cref="UnitPrice"/>.</summary>
    public string? Currency { get; init; }

    /// <summary>Why the retailer refused the household's last cancel (e.g. "already shipped"); the order stayed as it was.</summary>
    public string? CancelRefusal { get; init; }

    /// <summary>Every state it entered, oldest first: only in <c>GET /v1/orders/{ref}</c>, absent from MQTT messages.</summary>
    public IReadOnlyList<OrderStep>? History { get; init; }
}

/// <summary>A state an order entered.</summary>
/// <param name="State">The state.</param>
/// <param name="At">When.</param>
/// <param name="Source">household, retailer or gateway.</param>
/// <param name="By">Who: a user, a device, a retailer's name.</param>
/// <param name="Reason">Why, when there is more to say.</param>
public sealed record OrderStep(string State, DateTimeOffset At, string? Source, string By, string? Reason);
