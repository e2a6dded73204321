using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace Pantri.Iot.Sdk;

/// <summary>The connection: one background loop that connects (retrying with backoff), runs the sender while
/// connected, and starts over when the connection is lost.</summary>
public sealed partial class PantriDeviceClient
{
    private CancellationTokenSource? _connection;

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            SetState(PantriConnectionState.Connecting, null);
            CancellationTokenSource connection;
            try
            {
                // A new execution per connection: the backoff starts over after every good connection.
                connection = await _connectPipeline.ExecuteAsync(
                    static (client, token) => client.ConnectOnceAsync(token), this, stopping).ConfigureAwait(false);
            }
            catch (PantriAuthenticationException exception)
            {
                Fault(exception);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            Exception? lost = null;
            using (connection)
            {
                Log.Connected(_logger, DeviceId, PendingCommands);
                SetState(PantriConnectionState.Connected, null);
                try
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(connection.Token, stopping);
                    await SendLoopAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (connection.IsCancellationRequested || stopping.IsCancellationRequested)
                {
                    // The connection dropped (OnDisconnectedAsync) or the client is being disposed.
                }
#pragma warning disable CA1031 // Whatever broke the send (a publish timeout, a closed socket), a new connection recovers.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    lost = exception;
                    Log.SendFailed(_logger, exception);
                }
            }

            if (stopping.IsCancellationRequested)
            {
                return;
            }

            await ForceDisconnectAsync().ConfigureAwait(false);
            Log.ConnectionLost(_logger, lost?.Message ?? "closed by the gateway or the network");
            SetState(PantriConnectionState.Disconnected, lost);
        }
    }

    /// <summary>One attempt: CONNECT, then subscribe to the ack (or response) and orders topics.</summary>
    /// <returns>A token source cancelled when this connection is lost.</returns>
    /// <exception cref="PantriAuthenticationException">Refused for good: not retried.</exception>
    /// <exception cref="PantriConnectionException">Failed for now: retried with backoff.</exception>
    private async ValueTask<CancellationTokenSource> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        Log.Connecting(_logger, _options);
        await ForceDisconnectAsync().ConfigureAwait(false);
        var connection = new CancellationTokenSource();
        Volatile.Write(ref _connection, connection);
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var result = await _mqtt.ConnectAsync(_mqttOptions, linked.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw IsRefusal(result.ResultCode)
                    ? new PantriAuthenticationException(
                        $"The gateway refused device {DeviceId} at CONNECT ({result.ResultCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : ": " + result.ReasonString)}); check DeviceId and Device_Key.")
                    { ReasonCode = result.ResultCode.ToString() }
                    : new PantriConnectionException($"CONNACK {result.ResultCode}");
            }

            var subscribe = new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(f => f.WithTopic(ReplyTopic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
                .WithTopicFilter(f => f.WithTopic(_ordersTopic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
                .Build();
            var granted = await _mqtt.SubscribeAsync(subscribe, linked.Token).ConfigureAwait(false);
            foreach (var item in granted.Items)
            {
                if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
                {
                    throw new PantriAuthenticationException(
                        $"The gateway refused device {DeviceId} the subscription to {item.TopicFilter.Topic} ({item.ResultCode}).")
                    { ReasonCode = item.ResultCode.ToString() };
                }
            }

            return connection;
        }
        catch (Exception exception) when (FindTlsFailure(exception) is { } tls)
        {
            connection.Dispose();
            throw new PantriAuthenticationException($"TLS with {_options.Host}:{_options.Port} failed: {tls.Message}", exception);
        }
        catch (OperationCanceledException exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            connection.Dispose();
            throw new PantriConnectionException($"no CONNACK/SUBACK within {_options.ConnectTimeout}", exception);
        }
        catch (Exception exception) when (exception is MqttCommunicationException or SocketException or IOException)
        {
            connection.Dispose();
            throw new PantriConnectionException(exception.Message, exception);
        }
        catch
        {
            connection.Dispose();
            await ForceDisconnectAsync().ConfigureAwait(false);
            throw;
        }
    }

    private string ReplyTopic => _options.ProtocolVersion == PantriProtocolVersion.Mqtt5 ? _responseTopic : _ackTopic;

    private static bool IsRefusal(MqttClientConnectResultCode code) => code is MqttClientConnectResultCode.BadUserNameOrPassword
        or MqttClientConnectResultCode.NotAuthorized
        or MqttClientConnectResultCode.ClientIdentifierNotValid
        or MqttClientConnectResultCode.Banned
        or MqttClientConnectResultCode.BadAuthenticationMethod
        or MqttClientConnectResultCode.UnsupportedProtocolVersion;

    private static AuthenticationException? FindTlsFailure(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is AuthenticationException tls)
            {
                return tls;
            }
        }

        return null;
    }

    /// <exception cref="ArgumentException">The TLS CA file cannot be read.</exception>
    private MqttClientOptions BuildMqttOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithClientId(DeviceId)
            .WithCredentials(DeviceId, _options.DeviceKey)
            .WithProtocolVersion(_options.ProtocolVersion == PantriProtocolVersion.Mqtt5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithCleanStart()
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(_options.ConnectTimeout);
        if (_options.UseTls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(_options.TlsTargetHost ?? _options.Host);
                if (_options.TlsCaCertificatePath is { } path)
                {
                    var chain = new X509Certificate2Collection();
                    try
                    {
                        chain.ImportFromPemFile(path);
                    }
                    catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
                    {
                        throw new ArgumentException($"TlsCaCertificatePath {path} cannot be read as PEM: {exception.Message}", "options", exception);
                    }

                    tls.WithTrustChain(chain);
                }
            });
        }

        return builder.Build();
    }

    private ResiliencePipeline BuildConnectPipeline() => new ResiliencePipelineBuilder { TimeProvider = _time }
        .AddRetry(new RetryStrategyOptions
        {
            // Everything but a refusal is worth another attempt (a connection failure, and whatever else MQTTnet
            // throws); cancellation means the client is being disposed.
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (PantriAuthenticationException or OperationCanceledException)),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryDelay,
            MaxDelay = _options.MaxRetryDelay,
            MaxRetryAttempts = int.MaxValue,
            OnRetry = args =>
            {
                var attempt = args.AttemptNumber + 1;
                Log.Reconnecting(_logger, args.Outcome.Exception?.Message ?? "failed", attempt, args.RetryDelay);
                SetState(PantriConnectionState.Connecting, args.Outcome.Exception);
                Raise(Reconnecting, new PantriReconnectingEventArgs(attempt, args.RetryDelay, args.Outcome.Exception), nameof(Reconnecting));
                return default;
            },
        })
        .Build();

    private void Fault(PantriAuthenticationException exception)
    {
        Log.AuthenticationFailed(_logger, DeviceId, exception.Message);
        lock (_lock)
        {
            _fault = exception;
            _connected.TrySetException(exception);
            _ = _connected.Task.Exception; // observed: nobody may be waiting in ConnectAsync
        }

        SetState(PantriConnectionState.AuthenticationFailed, exception);
        foreach (var caller in _callers.Values)
        {
            caller.TrySetException(exception);
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (e.ClientWasConnected && Volatile.Read(ref _connection) is { } connection)
        {
            try
            {
                connection.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That connection was already over.
            }
        }

        return Task.CompletedTask;
    }

    private async Task ForceDisconnectAsync()
    {
        if (!_mqtt.IsConnected)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _mqtt.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            // Already broken; the next ConnectAsync starts from a clean state.
        }
    }
}

/// <summary>A connection attempt failed in a way that may pass (gateway down, network, timeout, server busy).</summary>
internal sealed class PantriConnectionException : Exception
{
    public PantriConnectionException()
    {
    }

    public PantriConnectionException(string message)
        : base(message)
    {
    }

    public PantriConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
