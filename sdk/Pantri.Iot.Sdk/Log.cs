using Microsoft.Extensions.Logging;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Sdk;

/// <summary>Every log message of the SDK, in one place so their event ids stay unique.</summary>
/// <remarks>Event ids 4000–4999 belong to the SDK: connection 40xx, commands 41xx, queue 42xx, messages 43xx. No
/// message takes the device key; options print through <see cref="PantriDeviceOptions.ToString"/>, which leaves it
/// out.</remarks>
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Connecting {Endpoint}")]
    public static partial void Connecting(ILogger logger, PantriDeviceOptions endpoint);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Connected as {DeviceId}; {Pending} queued commands to send")]
    public static partial void Connected(ILogger logger, string deviceId, int pending);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Connection lost ({Reason})")]
    public static partial void ConnectionLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Connection attempt failed ({Error}); retry {Attempt} in {Delay}")]
    public static partial void Reconnecting(ILogger logger, string error, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "The gateway refused device {DeviceId}: {Reason}. Not retrying; check DeviceId and Device_Key")]
    public static partial void AuthenticationFailed(ILogger logger, string deviceId, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "A user event handler of {Event} threw; the client carries on")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string @event);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Sending failed; reconnecting")]
    public static partial void SendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Queued {Kind} {RequestId} (#{Sequence}, {Pending} waiting)")]
    public static partial void Queued(ILogger logger, DeviceTopicKind kind, string requestId, long sequence, int pending);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Sent {Kind} {RequestId} (attempt {Attempt})")]
    public static partial void Sent(ILogger logger, DeviceTopicKind kind, string requestId, int attempt);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "{Kind} {RequestId}: {Id} {Status} (CommandRef {CommandRef}{Replay})")]
    public static partial void Acknowledged(ILogger logger, DeviceTopicKind kind, string requestId, int id, string status, long commandRef, string replay);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "{Kind} {RequestId}: {Outcome}; sending it again in {Delay} with the same RequestId")]
    public static partial void Resending(ILogger logger, DeviceTopicKind kind, string requestId, string outcome, TimeSpan delay);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Error, Message = "{Kind} {RequestId}: the broker refused it ({ReasonCode}); removed from the queue")]
    public static partial void Rejected(ILogger logger, DeviceTopicKind kind, string requestId, string reasonCode);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Queue {Path}: {Pending} commands waiting from before")]
    public static partial void QueueRestored(ILogger logger, string path, int pending);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Queue {Path}: skipped {Count} unreadable records (a torn write is expected after a crash)")]
    public static partial void QueueRecordsSkipped(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Ignored an unreadable message on {Topic}")]
    public static partial void UnreadableMessage(ILogger logger, string topic, Exception? exception);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Debug, Message = "Ack {Id} for {RequestId} matches no command in flight (a replay of an earlier send)")]
    public static partial void StrayAck(ILogger logger, int id, string? requestId);
}
