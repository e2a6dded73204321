using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;

namespace Pantri.Iot.Broker;

/// <summary>Every log message of the broker, in one place so their event ids stay unique.</summary>
/// <remarks>Event ids 2000–2999 belong to the broker project; the next message takes the next free id.</remarks>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "MQTT broker listening on {BindAddress}:{Port} (max packet {MaxPacketSize} bytes, at most {MaxConnections} connections, {MaxConnectionsPerAddress} per address, CONNECT within {ConnectTimeout})")]
    public static partial void Started(ILogger logger, string bindAddress, int port, int maxPacketSize, int maxConnections, int maxConnectionsPerAddress, TimeSpan connectTimeout);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Refused CONNECT from {ClientId} at {Endpoint}: {ReasonCode}{Detail}")]
    public static partial void RefusedConnect(ILogger logger, string clientId, string? endpoint, MqttConnectReasonCode reasonCode, string detail);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Refused PUBLISH from {ClientId} to {Topic}: {ReasonCode}")]
    public static partial void RefusedPublish(ILogger logger, string clientId, string topic, MqttPubAckReasonCode reasonCode);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Refused SUBSCRIBE from {ClientId} to {Filter}: {ReasonCode}")]
    public static partial void RefusedSubscribe(ILogger logger, string clientId, string filter, MqttSubscribeReasonCode reasonCode);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Handling a request from {ClientId} failed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string clientId);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "A client queue overflowed; {Dropped} messages dropped so far")]
    public static partial void QueueOverflow(ILogger logger, long dropped);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Closed {ClientId} at {Endpoint}: it landed in a session another identity created")]
    public static partial void SessionOfAnotherIdentity(ILogger logger, string clientId, string? endpoint);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "Suppressed {Count} refusals of reason {Reason} in the last {Window}")]
    public static partial void RefusalsSuppressed(ILogger logger, long count, string reason, TimeSpan window);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "MQTT connection cap lowered from {Configured} to {Effective}: the open-file limit is {OpenFileLimit} and {Reserve} are kept for files and HTTP")]
    public static partial void ConnectionCapClamped(ILogger logger, int configured, int effective, long openFileLimit, long reserve);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Closed a connection from {Endpoint} before login: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string? endpoint, string reason);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Accepting MQTT connections fails ({Error}); retrying with a back-off of up to {MaxBackoff}")]
    public static partial void AcceptFailing(ILogger logger, System.Net.Sockets.SocketError error, TimeSpan maxBackoff);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Accepting MQTT connections again after {Failures} failed accepts in {Duration}")]
    public static partial void AcceptRecovered(ILogger logger, long failures, TimeSpan duration);

    /// <summary>A message of MQTTnet's own log, already formatted; <paramref name="level"/> is mapped by
    /// <see cref="MqttNetLoggerBridge"/>.</summary>
    [LoggerMessage(EventId = 2007, Message = "{Source}: {Text}")]
    public static partial void MqttNet(ILogger logger, LogLevel level, string source, string text, Exception? exception);
}
