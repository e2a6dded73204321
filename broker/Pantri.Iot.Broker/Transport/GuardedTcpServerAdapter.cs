using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace Pantri.Iot.Broker.Transport;

/// <summary>The broker's TCP listener. It replaces MQTTnet's default one so every connection passes the frame
/// guard (maximum packet size, Will inspection) and the connection limit before MQTTnet sees a byte. Its own
/// messages go to the server's logger; each connection's channel adapter logs to <paramref name="packetLogger"/>
/// (MQTTnet's per-packet trace).</summary>
internal sealed class GuardedTcpServerAdapter(IPEndPoint endpoint, int maxPacketSize, int maxConnections, IMqttNetLogger packetLogger) : IMqttServerAdapter
{
    private readonly ConcurrentDictionary<EndPoint, GuardedConnection> _connects = new();
    private CancellationTokenSource? _stopping;
    private Socket? _listener;
    private IMqttNetLogger _logger = MqttNetNullLogger.Instance;
    private MqttServerOptions? _options;
    private int _connections;

    /// <inheritdoc/>
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>The port actually bound (useful when 0 was asked for).</summary>
    public int BoundPort { get; private set; }

    /// <summary>A live connection by its remote end point: what its CONNECT said, who it authenticated as.</summary>
    public GuardedConnection? GetConnection(EndPoint? remote) => remote is not null && _connects.TryGetValue(remote, out var connection) ? connection : null;

    /// <inheritdoc/>
    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _options = options;
        _logger = logger;
        _stopping = new CancellationTokenSource();
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(endpoint);
        _listener.Listen(1024);
        BoundPort = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = Task.Run(() => AcceptLoopAsync(_listener, _stopping.Token));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync()
    {
        try
        {
            _stopping?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _listener?.Dispose();
        _listener = null;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // MQTTnet disposes its adapters and so may the host: a second call must be harmless.
        var stopping = Interlocked.Exchange(ref _stopping, null);
        stopping?.Cancel();
        stopping?.Dispose();
        _listener?.Dispose();
        _listener = null;
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                _logger.Publish(MqttNetLogLevel.Warning, nameof(GuardedTcpServerAdapter), "Accept failed", null, ex);
                continue;
            }

            if (Interlocked.Increment(ref _connections) > maxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }

            // A connection lives until it closes, not until the accept loop stops: the server disposes sessions itself.
            _ = Task.Run(() => HandleAsync(client), CancellationToken.None);
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint!;
        try
        {
            socket.NoDelay = true;
            var connection = new GuardedConnection(socket);
            _connects[remote] = connection;
            var stream = new MqttFrameGuardStream(new NetworkStream(socket, ownsSocket: true), maxPacketSize, info => connection.Connect = info);
            await using (stream.ConfigureAwait(false))
            {
                var handler = ClientHandler;
                if (handler is null)
                {
                    return;
                }

                var channel = new MqttTcpChannel(stream, socket.LocalEndPoint!, remote, null);
                var writer = new MqttBufferWriter(_options!.WriterBufferSize, _options.WriterBufferSizeMax);
                using var adapter = new MqttChannelAdapter(channel, new MqttPacketFormatterAdapter(writer), packetLogger);
                await handler(adapter).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A client that went away or broke the frame limit; MQTTnet has already cleaned up its session.
        }
        finally
        {
            _connects.TryRemove(remote, out _);
            Interlocked.Decrement(ref _connections);
            socket.Dispose();
        }
    }
}
