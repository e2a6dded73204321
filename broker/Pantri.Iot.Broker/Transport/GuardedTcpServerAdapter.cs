using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace Pantri.Iot.Broker.Transport;

/// <summary>The broker's TCP listener. It replaces MQTTnet's default one so that every connection is bounded before
/// MQTTnet sees a byte: the connection caps (in total and per source address) at accept, the CONNECT timeout, and the
/// frame guard (maximum packet size, CONNECT first, Will inspection). Its own refusals are logged through
/// <paramref name="refusals"/>; each connection's channel adapter logs to <paramref name="packetLogger"/> (MQTTnet's
/// per-packet trace). With <paramref name="tls"/> it also listens for MQTT over TLS: those connections pass the same
/// caps at accept, complete the TLS handshake within the CONNECT timeout, and are then served exactly like plain ones,
/// the frame guard reading the decrypted bytes.</summary>
internal sealed class GuardedTcpServerAdapter(TransportLimits limits, IMqttNetLogger packetLogger, TimeProvider time, RefusalLog refusals, ILogger logger, MqttTlsEndpoint? tls = null) : IMqttServerAdapter
{
    /// <summary>First pause after a failed accept; it doubles on each further failure up to <see cref="MaxAcceptBackoff"/>.</summary>
    internal static readonly TimeSpan MinAcceptBackoff = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest pause between accepts while they fail (e.g. out of file descriptors).</summary>
    internal static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(1);

    // <sys/socket.h> on Linux.
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    private readonly ConcurrentDictionary<EndPoint, GuardedConnection> _connects = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private CancellationTokenSource? _stopping;
    private Socket? _listener;
    private Socket? _tlsListener;
    private SslServerAuthenticationOptions? _tlsOptions;
    private MqttServerOptions? _options;
    private int _connections;

    /// <inheritdoc/>
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>The port actually bound (useful when 0 was asked for); 0 when plain TCP is off.</summary>
    public int BoundPort { get; private set; }

    /// <summary>The MQTT-over-TLS port actually bound; 0 when TLS is off.</summary>
    public int TlsBoundPort { get; private set; }

    /// <summary>The TLS listener's certificate once started (for the start-up log line).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate? TlsCertificate => _tlsOptions?.ServerCertificateContext?.TargetCertificate;

    /// <summary>Counts the open connections whose CONNECT authenticated, by kind (one pass, for a metrics scrape).</summary>
    public void CountAuthenticated(out int devices, out int ops)
    {
        devices = 0;
        ops = 0;
        foreach (var (_, connection) in _connects)
        {
            switch (connection.Identity)
            {
                case { IsOps: true }:
                    ops++;
                    break;
                case { }:
                    devices++;
                    break;
            }
        }
    }

    /// <summary>A live connection by its remote end point: what its CONNECT said, who it authenticated as.</summary>
    public GuardedConnection? GetConnection(EndPoint? remote) => remote is not null && _connects.TryGetValue(remote, out var connection) ? connection : null;

    /// <inheritdoc/>
    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _options = options;
        _stopping = new CancellationTokenSource();
        if (tls is not null)
        {
            // Loaded before any socket is bound: a missing or unreadable certificate fails the start, naming it.
            _tlsOptions = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = tls.LoadCertificate(),
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            };
        }

        if (limits.PlainTcp)
        {
            _listener = Listen(limits.Endpoint, "Pantri:Mqtt:Port");
            BoundPort = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            var listener = _listener;
            _ = Task.Run(() => AcceptLoopAsync(listener.AcceptAsync, _stopping.Token));
        }

        if (tls is not null)
        {
            _tlsListener = Listen(new IPEndPoint(tls.Address, tls.Port), "Pantri:Tls:MqttPort");
            TlsBoundPort = ((IPEndPoint)_tlsListener.LocalEndPoint!).Port;
            var listener = _tlsListener;
            _ = Task.Run(() => AcceptLoopAsync(listener.AcceptAsync, _stopping.Token, _tlsOptions));
        }

        return Task.CompletedTask;
    }

    private static Socket Listen(IPEndPoint endpoint, string portSetting)
    {
        // No Socket.ReuseAddress: on Linux .NET sets SO_REUSEPORT with it, and a second gateway could then bind this
        // port silently and take half the connections. Binding an address in use must fail, and say so. Plain
        // SO_REUSEADDR is set on Linux, as every server does, so a restart can bind the port while connections of the
        // previous run sit in TIME_WAIT; Linux still refuses a second listener on the port with it.
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            listener.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        }

        try
        {
            listener.Bind(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            listener.Dispose();
            throw new InvalidOperationException(
                $"MQTT port {endpoint.Port} on {endpoint.Address} is already in use (another gateway or broker listens there). "
                + $"Stop it or set {portSetting} to a free port.", ex);
        }

        listener.Listen(1024);
        return listener;
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
        _tlsListener?.Dispose();
        _tlsListener = null;
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
        _tlsListener?.Dispose();
        _tlsListener = null;
    }

    /// <summary>Accepts until cancelled. When accepting fails (out of file descriptors: <c>EMFILE</c>/<c>ENFILE</c>,
    /// or any other socket error) it pauses, doubling the pause up to <see cref="MaxAcceptBackoff"/>, instead of
    /// spinning on the pending connection; the first failure of a run is logged (rate-limited), and so is the end of
    /// the run. With <paramref name="tlsOptions"/> each accepted connection is a TLS one.</summary>
    internal async Task AcceptLoopAsync(Func<CancellationToken, ValueTask<Socket>> accept, CancellationToken cancellationToken, SslServerAuthenticationOptions? tlsOptions = null)
    {
        var backoff = TimeSpan.Zero;
        var failures = 0L;
        var failingSince = 0L;
        var logged = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await accept(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                if (failures++ == 0)
                {
                    failingSince = time.GetTimestamp();
                    logged = refusals.ShouldLog(RefusalReasons.AcceptFailed);
                    if (logged)
                    {
                        Log.AcceptFailing(logger, ex.SocketErrorCode, MaxAcceptBackoff);
                    }
                }

                backoff = backoff == TimeSpan.Zero ? MinAcceptBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
                try
                {
                    await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (failures > 0)
            {
                if (logged)
                {
                    Log.AcceptRecovered(logger, failures, time.GetElapsedTime(failingSince));
                }

                failures = 0;
                backoff = TimeSpan.Zero;
            }

            if (!TryAdmit(client.RemoteEndPoint, out var address))
            {
                client.Dispose();
                continue;
            }

            // A connection lives until it closes, not until the accept loop stops: the server disposes sessions itself.
            // On the pool, so one client's login work does not hold up the next accept; as a work item rather than
            // Task.Run, whose wrapper task would stay alive as long as the connection.
            ThreadPool.QueueUserWorkItem(static state => _ = state.Adapter.HandleAsync(state.Client, state.Address, state.TlsOptions), (Adapter: this, Client: client, Address: address, TlsOptions: tlsOptions), preferLocal: false);
        }
    }

    /// <summary>Counts a new connection against the caps; false (and the connection refused) above either.</summary>
    private bool TryAdmit(EndPoint? remote, out IPAddress? address)
    {
        address = (remote is WebSocketEndPoint ws ? ws.Peer : remote as IPEndPoint)?.Address;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        if (Interlocked.Increment(ref _connections) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            Refuse(RefusalReasons.ConnectionCap, remote);
            return false;
        }

        if (address is null || limits.ProxyAddresses.Contains(address))
        {
            address = null; // not counted per address
            return true;
        }

        if (_perAddress.AddOrUpdate(address, 1, static (_, n) => n + 1) > limits.MaxConnectionsPerAddress)
        {
            Release(address);
            Interlocked.Decrement(ref _connections);
            Refuse(RefusalReasons.AddressCap, remote);
            return false;
        }

        return true;
    }

    private void Release(IPAddress address)
    {
        if (_perAddress.AddOrUpdate(address, 0, static (_, n) => n - 1) <= 0)
        {
            _perAddress.TryRemove(KeyValuePair.Create(address, 0));
        }
    }

    private void Refuse(string reason, EndPoint? remote)
    {
        if (refusals.ShouldLog(reason))
        {
            Log.ConnectionRefused(logger, remote?.ToString(), reason);
        }
    }

    // A plain connection is served by ServeAsync alone: one parked state machine per idle connection, not two.
    private Task HandleAsync(Socket socket, IPAddress? address, SslServerAuthenticationOptions? tlsOptions)
    {
        EndPoint remote;
        EndPoint local;
        NetworkStream transport;
        try
        {
            remote = socket.RemoteEndPoint!;
            local = socket.LocalEndPoint!;
            socket.NoDelay = true;
            transport = new NetworkStream(socket, ownsSocket: true);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // Gone before it was served.
            Released(null, address);
            socket.Dispose();
            return Task.CompletedTask;
        }

        return tlsOptions is null
            ? ServeAsync(transport, remote, local, () => Abort(socket), address)
            : ServeTlsAsync(transport, socket, remote, local, address, tlsOptions);
    }

    private async Task ServeTlsAsync(NetworkStream transport, Socket socket, EndPoint remote, EndPoint local, IPAddress? address, SslServerAuthenticationOptions tlsOptions)
    {
        SslStream? secured = null;
        try
        {
            secured = await AuthenticateAsync(transport, tlsOptions, remote).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Gone during the handshake.
        }
        finally
        {
            // Whatever ended the handshake without a secured stream, the connection's place under the caps is given back.
            if (secured is null)
            {
                Released(remote, address);
                socket.Dispose();
            }
        }

        if (secured is not null)
        {
            await ServeAsync(secured, remote, local, () => Abort(socket), address).ConfigureAwait(false);
        }
    }

    /// <summary>Serves one MQTT connection that arrived over another transport (a WebSocket of the gateway's HTTP
    /// server) exactly as a TCP one: the same connection caps (counted with the TCP connections), CONNECT timeout,
    /// frame guard, identity binding and session handling. Returns when the connection ends, or at once (false) when
    /// the caps refuse it or the broker is not serving. <paramref name="abort"/> closes the connection at once.</summary>
    public async Task<bool> ServeStreamAsync(Stream transport, WebSocketEndPoint remote, EndPoint local, Action abort)
    {
        if (ClientHandler is null || _stopping is null || !TryAdmit(remote, out var address))
        {
            return false;
        }

        await ServeAsync(transport, remote, local, abort, address).ConfigureAwait(false);
        return true;
    }

    /// <summary>The server side of the TLS handshake, bounded by the CONNECT timeout (a client that opens a connection
    /// and never says hello is closed as one that never sends CONNECT). Null, with the connection closed and the refusal
    /// counted, when it fails: plain MQTT sent to the TLS port, a client offering only TLS 1.0/1.1, or a timeout.</summary>
    private async Task<SslStream?> AuthenticateAsync(Stream transport, SslServerAuthenticationOptions tlsOptions, EndPoint remote)
    {
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(limits.ConnectTimeout, time);
        try
        {
            await ssl.AuthenticateAsServerAsync(tlsOptions, timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or SocketException)
        {
            Refuse(timeout.IsCancellationRequested ? RefusalReasons.ConnectTimeout : RefusalReasons.TlsHandshake, remote);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private static void Abort(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    /// <summary>The part every transport shares, once a connection is admitted: register it for the broker's checks,
    /// guard its frames (the guard closes the transport when it is disposed), wait for its CONNECT, then hand it to
    /// MQTTnet. The connection's place under the caps is released at the end, whatever happened.</summary>
    private async Task ServeAsync(Stream transport, EndPoint remote, EndPoint local, Action abort, IPAddress? address)
    {
        try
        {
            var stream = new MqttFrameGuardStream(transport, limits.MaxPacketSize);
            _connects[remote] = new GuardedConnection(stream, abort);
            await using (stream.ConfigureAwait(false))
            {
                if (!await ReceiveConnectAsync(stream, remote).ConfigureAwait(false))
                {
                    return;
                }

                var handler = ClientHandler;
                if (handler is null)
                {
                    return;
                }

                var channel = new MqttTcpChannel(stream, local, remote, null);
                var writer = new MqttBufferWriter(_options!.WriterBufferSize, _options.WriterBufferSizeMax);
                using var adapter = new MqttChannelAdapter(channel, new MqttPacketFormatterAdapter(writer), packetLogger);
                await handler(adapter).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // A client that went away or broke the frame limit; MQTTnet has already cleaned up its session.
        }
        finally
        {
            Released(remote, address);
        }
    }

    private void Released(EndPoint? remote, IPAddress? address)
    {
        if (remote is not null)
        {
            _connects.TryRemove(remote, out _);
        }

        if (address is not null)
        {
            Release(address);
        }

        Interlocked.Decrement(ref _connections);
    }

    /// <summary>Waits at most the CONNECT timeout for the whole CONNECT packet; false (connection to be closed) when it
    /// does not come, is not a CONNECT, is too large or the client closes first.</summary>
    private async Task<bool> ReceiveConnectAsync(MqttFrameGuardStream stream, EndPoint remote)
    {
        using var timeout = new CancellationTokenSource(limits.ConnectTimeout, time);
        try
        {
            return await stream.ReceiveConnectAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Refuse(RefusalReasons.ConnectTimeout, remote);
            return false;
        }
        catch (MqttFrameViolationException)
        {
            Refuse(RefusalReasons.BadFirstPacket, remote);
            return false;
        }
    }
}
