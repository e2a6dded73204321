using System.Globalization;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace Pantri.Iot.Broker;

/// <summary>MQTTnet's own log (listener, sessions, keep-alive, exceptions in event handlers, our listener's accept
/// failures) forwarded to an <see cref="ILogger"/>, instead of MQTTnet's null logger. Levels: Verbose → Trace,
/// Info → Debug (MQTTnet writes Info lines for every connection), Warning → Warning, Error → Error.</summary>
/// <remarks>MQTTnet's <see cref="IMqttNetLogger.IsEnabled"/> has no level: once it is true MQTTnet builds the arguments
/// of every message, whatever its level. So <see cref="IsEnabled"/> is true when any level MQTTnet can map to is
/// enabled, and <see cref="Publish"/> checks the message's own level before formatting anything.</remarks>
internal sealed class MqttNetLoggerBridge : IMqttNetLogger
{
    /// <summary>The <see cref="ILogger"/> category of MQTTnet's messages.</summary>
    public const string CategoryName = "MQTTnet";

    private readonly ILogger _logger;

    /// <summary>Forwards to <paramref name="logger"/>.</summary>
    public MqttNetLoggerBridge(ILogger logger)
    {
        _logger = logger;
        PacketTrace = new TraceOnly(this);
    }

    /// <inheritdoc/>
    public bool IsEnabled =>
        _logger.IsEnabled(LogLevel.Error) || _logger.IsEnabled(LogLevel.Warning) || _logger.IsEnabled(LogLevel.Debug) || _logger.IsEnabled(LogLevel.Trace);

    /// <summary>The same log for MQTTnet's per-connection channel adapters, enabled only when Trace is. In MQTTnet 5.2
    /// an adapter logs nothing but one Verbose line per packet sent or received, and allocates its arguments whenever
    /// <see cref="IMqttNetLogger.IsEnabled"/> is true: through this view, a log with warnings on costs the packet path
    /// nothing.</summary>
    public IMqttNetLogger PacketTrace { get; }

    /// <inheritdoc/>
    public void Publish(MqttNetLogLevel logLevel, string source, string? message, object?[]? parameters, Exception? exception)
    {
        var level = ToLogLevel(logLevel);
        if (level > LogLevel.Debug && IsConnectionTeardown(exception))
        {
            // A device that drops its connection (power, Wi-Fi, a hang-up right after its ack) makes MQTTnet log a
            // warning or error with a stack trace from whichever loop noticed first. That is normal life for a fleet,
            // not a fault of the gateway, and ops sees it as presence "offline"/"dropped"; a reconnect storm would
            // otherwise flood the log.
            level = LogLevel.Debug;
        }

        if (!_logger.IsEnabled(level))
        {
            return;
        }

        Log.MqttNet(_logger, level, source, Format(message ?? string.Empty, parameters), exception);
    }

    /// <summary>True for the exceptions MQTTnet reports when a connection closes under it while it reads or writes.</summary>
    internal static bool IsConnectionTeardown(Exception? exception) => exception switch
    {
        null => false,
        ObjectDisposedException or OperationCanceledException or System.IO.IOException or System.Net.Sockets.SocketException => true,
        MQTTnet.Exceptions.MqttCommunicationException => true,
        _ => exception.InnerException is { } inner && IsConnectionTeardown(inner),
    };

    /// <summary>The <see cref="LogLevel"/> a MQTTnet level is logged at.</summary>
    internal static LogLevel ToLogLevel(MqttNetLogLevel level) => level switch
    {
        MqttNetLogLevel.Verbose => LogLevel.Trace,
        MqttNetLogLevel.Info => LogLevel.Debug,
        MqttNetLogLevel.Warning => LogLevel.Warning,
        MqttNetLogLevel.Error => LogLevel.Error,
        _ => LogLevel.Information,
    };

    /// <summary>MQTTnet's composite format (<c>{0}</c> holes) applied with the invariant culture. A message that does
    /// not fit its arguments is kept as it is, with the arguments appended, rather than lost to an exception.</summary>
    internal static string Format(string message, object?[]? parameters)
    {
        if (parameters is null || parameters.Length == 0)
        {
            return message;
        }

        try
        {
            return string.Format(CultureInfo.InvariantCulture, message, parameters);
        }
        catch (FormatException)
        {
            return message + " [" + string.Join(", ", parameters) + "]";
        }
    }

    /// <summary>See <see cref="PacketTrace"/>.</summary>
    private sealed class TraceOnly(MqttNetLoggerBridge bridge) : IMqttNetLogger
    {
        /// <inheritdoc/>
        public bool IsEnabled => bridge._logger.IsEnabled(LogLevel.Trace);

        /// <inheritdoc/>
        public void Publish(MqttNetLogLevel logLevel, string source, string? message, object?[]? parameters, Exception? exception) =>
            bridge.Publish(logLevel, source, message, parameters, exception);
    }
}
