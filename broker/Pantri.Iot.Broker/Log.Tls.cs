using Microsoft.Extensions.Logging;

namespace Pantri.Iot.Broker;

/// <summary>Log messages of the MQTT-over-TLS listener (event ids 2700–2799).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2700, Level = LogLevel.Information, Message = "MQTT over TLS listening on {BindAddress}:{Port} (TLS 1.2 and 1.3, certificate {Subject}, SHA-256 {Fingerprint})")]
    public static partial void TlsStarted(ILogger logger, string bindAddress, int port, string subject, string fingerprint);

    [LoggerMessage(EventId = 2701, Level = LogLevel.Information, Message = "Plain MQTT (without TLS) is off (Pantri:Mqtt:PlainTcp=false): only TLS and WebSocket clients are served")]
    public static partial void PlainTcpOff(ILogger logger);
}
