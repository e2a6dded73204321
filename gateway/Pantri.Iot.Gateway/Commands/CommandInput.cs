using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>A device or app command as it enters the pipeline, whatever transport it came by.</summary>
/// <param name="Kind">trigger, level or usage.</param>
/// <param name="DeviceId">The authenticated device, or null for an app user.</param>
/// <param name="AccountId">The app user's account (devices take theirs from the ledger).</param>
/// <param name="Request">The parsed request, or null when it failed to parse.</param>
/// <param name="Error">Why the request is malformed or refused at the transport.</param>
/// <param name="RequestId">The RequestId to echo and deduplicate on.</param>
/// <param name="CorrelationKey">MQTT 5 CorrelationData (Base64), deduplicated on when there is no RequestId.</param>
public sealed record CommandInput(
    DeviceTopicKind Kind,
    string? DeviceId,
    string? AccountId,
    DeviceRequest? Request,
    string? Error,
    string? RequestId,
    string? CorrelationKey);
