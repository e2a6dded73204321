namespace Pantri.Iot.Gateway.Events;

/// <summary>Something a household's app should hear about without polling: an order awaiting approval, an order
/// transition, a press a safeguard refused.</summary>
/// <param name="AccountId">The household it is for (never sent to another).</param>
/// <param name="Type">The SSE event name: <see cref="HouseholdEventTypes"/>.</param>
/// <param name="Data">Compact JSON (one line): the order-status payload, or the refused command's ack.</param>
public sealed record HouseholdEvent(string AccountId, string Type, ReadOnlyMemory<byte> Data);

/// <summary>The event names of <c>GET /v1/events</c>.</summary>
public static class HouseholdEventTypes
{
    /// <summary>A new order waits for the household's approval (data: the order-status payload).</summary>
    public const string ApprovalRequested = "approval-requested";

    /// <summary>An order changed (data: the order-status payload).</summary>
    public const string Order = "order";

    /// <summary>One of the household's devices went offline (data: the ops presence payload: DeviceId, Status, LastSeen,
    /// Reason clean/dropped/takeover).</summary>
    public const string DeviceOffline = "device-offline";

    /// <summary>A press or low level a safeguard refused, ID 422 or 423 (data: the acknowledgement, with <c>DeviceId</c>
    /// when a device sent it).</summary>
    public const string Refused = "refused";
}
