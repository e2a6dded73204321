using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Sdk.Queue;
using Polly;

namespace Pantri.Iot.Sdk;

/// <summary>A Pantri device: triggers re-orders and reports levels and usage to the gateway over MQTT, and returns
/// each command's <see cref="Acknowledgement"/>.</summary>
/// <remarks>
/// <para>Every command is first written to the queue (a small fsync'd file with <see cref="PantriDeviceOptions.QueuePath"/>)
/// with its RequestId, then sent in order, one at a time, until the gateway acknowledges it. A command issued while
/// the gateway is unreachable waits in the queue, across process restarts, and is sent when the connection returns;
/// sending it again after an uncertain send is harmless because the gateway replays the first ack for the same
/// RequestId (for 24 hours) and does nothing else.</para>
/// <para>The connection is kept up in the background: a failed attempt is retried with exponential backoff and
/// jitter (Polly), and the backoff starts over after a good connection. A refused key is not retried: it faults the
/// client with <see cref="PantriAuthenticationException"/>.</para>
/// <para>Acks 429 (too fast) and 503 (nothing recorded) are retried with the same backoff and the same RequestId;
/// every other ack, error or not, completes the command and is returned.</para>
/// <para>All members are thread-safe.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var device = new PantriDeviceClient(new PantriDeviceOptions
/// {
///     Host = "pantri.local",
///     DeviceId = "kitchen-button",
///     DeviceKey = Environment.GetEnvironmentVariable("PANTRI_DEVICE_KEY")!,
///     QueuePath = "/var/lib/pantri/kitchen-button.queue",
/// });
/// await device.ConnectAsync(cancellationToken);           // throws PantriAuthenticationException on a wrong key
///
/// var ack = await device.TriggerReorderAsync(123456789);   // 201 with OrderRef, or 409 naming the open order
/// Console.WriteLine($"{ack.Id} {ack.Status} order {ack.OrderRef}");
///
/// var level = await device.ReportLevelAsync(987654321, level: 4);
/// Console.WriteLine($"{level.Level} {level.Unit}, armed {level.Armed}, {level.Forecast?.HoursToReorder} h to reorder");
///
/// await foreach (var order in device.WatchOrdersAsync(cancellationToken))
/// {
///     Console.WriteLine($"order {order.OrderRef}: {order.State}");
/// }
/// </code>
/// </example>
public sealed partial class PantriDeviceClient : IAsyncDisposable
{
    private readonly PantriDeviceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IMqttClient _mqtt;
    private readonly MqttClientOptions _mqttOptions;
    private readonly string _ackTopic;
    private readonly string _responseTopic;
    private readonly string _ordersTopic;
    private readonly ResiliencePipeline _connectPipeline;
    private readonly ResiliencePipeline<Acknowledgement> _sendPipeline;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<Acknowledgement>> _callers = new();
    private readonly ConcurrentDictionary<Channel<OrderStatus>, byte> _orderWatchers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CommandQueue? _queue;
    private Task? _run;
    private PantriConnectionState _state = PantriConnectionState.Disconnected;
    private PantriAuthenticationException? _fault;
    private bool _disposed;

    /// <summary>Creates a client; nothing connects until <see cref="StartAsync"/>, <see cref="ConnectAsync"/> or the
    /// first command.</summary>
    /// <param name="options">Where and who; copied, so later changes to the object have no effect.</param>
    /// <param name="logger">Where the SDK logs (event ids 4000–4999); the device key is never logged.</param>
    /// <param name="timeProvider">The clock for timeouts, backoff and queue timestamps (default the system clock).</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> fails validation (the message lists why), or its
    /// <see cref="PantriDeviceOptions.TlsCaCertificatePath"/> cannot be read.</exception>
    public PantriDeviceClient(PantriDeviceOptions options, ILogger<PantriDeviceClient>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options.Snapshot();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _ackTopic = Topics.Device(_options.DeviceId, DeviceTopicKind.Ack);
        _ordersTopic = Topics.Device(_options.DeviceId, DeviceTopicKind.Orders);
        _responseTopic = Topics.DeviceNamespace(_options.DeviceId) + "sdk/replies";
        _mqttOptions = BuildMqttOptions();
        _mqtt = new MqttClientFactory().CreateMqttClient();
        _mqtt.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
        _mqtt.DisconnectedAsync += OnDisconnectedAsync;
        _connectPipeline = BuildConnectPipeline();
        _sendPipeline = BuildSendPipeline();
    }

    /// <summary>The connection changed state; see <see cref="State"/>.</summary>
    public event EventHandler<PantriConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>A connection attempt failed and the next one waits <see cref="PantriReconnectingEventArgs.Delay"/>.</summary>
    public event EventHandler<PantriReconnectingEventArgs>? Reconnecting;

    /// <summary>A queued command got its ack (or was refused outright) and left the queue; raised for every command,
    /// including those queued before a restart, whose original caller is gone.</summary>
    public event EventHandler<PantriCommandCompletedEventArgs>? CommandCompleted;

    /// <summary>An order of one of the device's instructions changed state (placed, submitted, delivered…).</summary>
    public event EventHandler<PantriOrderStatusEventArgs>? OrderStatusChanged;

    /// <summary>The device's id.</summary>
    public string DeviceId => _options.DeviceId;

    /// <summary>Where the connection stands.</summary>
    public PantriConnectionState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>True while connected and subscribed.</summary>
    public bool IsConnected => State == PantriConnectionState.Connected;

    /// <summary>Commands issued (now or before a restart) that have no ack yet.</summary>
    public int PendingCommands => _queue?.Count ?? 0;

    /// <summary>The commands waiting for their ack, oldest first.</summary>
    public IReadOnlyList<PantriCommand> GetPendingCommands() => _queue?.Snapshot() ?? [];

    /// <summary>Opens the queue (resuming commands left from before) and starts connecting in the background. Returns
    /// at once: commands may be issued while the gateway is unreachable. Calling it again does nothing.</summary>
    /// <param name="cancellationToken">Unused beyond an early check; the connection runs until the client is disposed.</param>
    /// <exception cref="IOException">The queue file is held by another process or cannot be written.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureStarted();
        return Task.CompletedTask;
    }

    /// <summary>Starts the client (see <see cref="StartAsync"/>) and waits until it is connected.</summary>
    /// <param name="cancellationToken">Ends the wait (the client keeps trying in the background).</param>
    /// <exception cref="PantriAuthenticationException">The gateway refused the device; the client stopped trying.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        Task connected;
        lock (_lock)
        {
            connected = _connected.Task;
        }

        await connected.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the gateway to re-order an instruction now (the press of a button).</summary>
    /// <param name="instructionRef">The instruction, or null for the device's only paired instruction.</param>
    /// <param name="requestId">The idempotency key (at most 128 characters); null makes a new one. Pass your own to
    /// make a press that your code may repeat (e.g. after its own restart) count once.</param>
    /// <param name="cancellationToken">Ends the wait; the command stays queued.</param>
    /// <returns>The ack: 201 with <c>OrderRef</c>, 409 naming the open order, 403/404/423/422… with the reason.</returns>
    /// <exception cref="PantriAckTimeoutException">No ack within <see cref="PantriDeviceOptions.AckTimeout"/>; the
    /// command stays queued and is still delivered.</exception>
    /// <exception cref="PantriQueueFullException">The queue is full; the command was not queued.</exception>
    /// <exception cref="PantriAuthenticationException">The gateway refused the device.</exception>
    /// <exception cref="PantriCommandRejectedException">The broker refused the publish outright.</exception>
    /// <example>
    /// <code>
    /// var ack = await device.TriggerReorderAsync(123456789);
    /// if (ack.Id == AckIds.OrderPlaced) { BlinkGreen(); }
    /// </code>
    /// </example>
    public Task<Acknowledgement> TriggerReorderAsync(long? instructionRef = null, string? requestId = null, CancellationToken cancellationToken = default)
    {
        if (instructionRef is { } reference)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reference, nameof(instructionRef));
        }

        return IssueAsync(DeviceTopicKind.Trigger, instructionRef, value: null, requestId, cancellationToken);
    }

    /// <summary>Reports the absolute level of a tracked instruction (e.g. cookies left in a jar). The gateway places an
    /// order when the level reaches the trigger point while the rule is armed.</summary>
    /// <param name="instructionRef">The tracked instruction.</param>
    /// <param name="level">The level in the instruction's unit, from 0 to 1,000,000,000.</param>
    /// <param name="requestId">The idempotency key; null makes a new one.</param>
    /// <param name="cancellationToken">Ends the wait; the command stays queued.</param>
    /// <returns>The ack: 200 (recorded) or 201 (an order was placed), with <c>Level</c>, <c>ReorderAt</c>,
    /// <c>Armed</c> and <c>Forecast</c>.</returns>
    /// <exception cref="PantriAckTimeoutException">No ack in time; the command stays queued.</exception>
    /// <exception cref="PantriQueueFullException">The queue is full; the command was not queued.</exception>
    /// <exception cref="PantriAuthenticationException">The gateway refused the device.</exception>
    /// <exception cref="PantriCommandRejectedException">The broker refused the publish outright.</exception>
    public Task<Acknowledgement> ReportLevelAsync(long instructionRef, double level, string? requestId = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(instructionRef);
        ThrowIfOutOfRange(level);
        return IssueAsync(DeviceTopicKind.Level, instructionRef, level, requestId, cancellationToken);
    }

    /// <summary>Reports units taken from a tracked instruction since the last report (e.g. one dishwasher tablet).</summary>
    /// <param name="instructionRef">The tracked instruction.</param>
    /// <param name="used">Units used, from 0 to 1,000,000,000 (default 1).</param>
    /// <param name="requestId">The idempotency key; null makes a new one.</param>
    /// <param name="cancellationToken">Ends the wait; the command stays queued.</param>
    /// <returns>The ack: 200 or 201, as for <see cref="ReportLevelAsync"/>; 409 until a level is known.</returns>
    /// <exception cref="PantriAckTimeoutException">No ack in time; the command stays queued.</exception>
    /// <exception cref="PantriQueueFullException">The queue is full; the command was not queued.</exception>
    /// <exception cref="PantriAuthenticationException">The gateway refused the device.</exception>
    /// <exception cref="PantriCommandRejectedException">The broker refused the publish outright.</exception>
    public Task<Acknowledgement> ReportUsageAsync(long instructionRef, double used = 1, string? requestId = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(instructionRef);
        ThrowIfOutOfRange(used);
        return IssueAsync(DeviceTopicKind.Usage, instructionRef, used, requestId, cancellationToken);
    }

    /// <summary>Order status changes of the device's instructions, as they arrive, until
    /// <paramref name="cancellationToken"/> is cancelled or the client is disposed. Each call gets every update that
    /// arrives after it starts; a reader that falls more than 64 updates behind loses the oldest.</summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    public async IAsyncEnumerable<OrderStatus> WatchOrdersAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<OrderStatus>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _orderWatchers[channel] = 0;
        try
        {
            if (_stopping.IsCancellationRequested)
            {
                yield break;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            while (true)
            {
                OrderStatus status;
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                    {
                        yield break;
                    }

                    if (!channel.Reader.TryRead(out status!))
                    {
                        continue;
                    }
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }

                yield return status;
            }
        }
        finally
        {
            _orderWatchers.TryRemove(channel, out _);
        }
    }

    /// <summary>Disconnects cleanly and closes the queue. Commands without an ack stay in the queue file for the next
    /// client; their callers get <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? run;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            run = _run;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (run is not null)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_mqtt.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
                await _mqtt.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
                // Going away anyway; the gateway notices the dropped connection.
            }
        }

        foreach (var watcher in _orderWatchers.Keys)
        {
            watcher.Writer.TryComplete();
        }

        var disposed = new ObjectDisposedException(nameof(PantriDeviceClient), "The client was disposed before the ack arrived; the command stays queued.");
        foreach (var caller in _callers.Values)
        {
            caller.TrySetException(disposed);
        }

        SetState(PantriConnectionState.Stopped, null);
        lock (_lock)
        {
            _connected.TrySetException(new ObjectDisposedException(nameof(PantriDeviceClient)));
            _connected.Task.Exception?.Handle(_ => true);
        }

        _mqtt.Dispose();
        _queue?.Dispose();
        _stopping.Dispose();
    }

    private static void ThrowIfOutOfRange(double quantity, [CallerArgumentExpression(nameof(quantity))] string? name = null)
    {
        if (!double.IsFinite(quantity) || quantity is < 0 or > DeviceRequestParser.MaxQuantity)
        {
            throw new ArgumentOutOfRangeException(name, quantity, "must be a finite number between 0 and 1,000,000,000");
        }
    }

    private async Task<Acknowledgement> IssueAsync(DeviceTopicKind kind, long? instructionRef, double? value, string? requestId, CancellationToken cancellationToken)
    {
        if (requestId is not null)
        {
            if (requestId.Length == 0)
            {
                throw new ArgumentException("RequestId must not be empty (pass null for a new one)", nameof(requestId));
            }

            if (!RequestIds.TryNormalize(requestId, out _, out var error))
            {
                throw new ArgumentException(error, nameof(requestId));
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var queue = EnsureStarted();
        lock (_lock)
        {
            if (_fault is not null)
            {
                throw new PantriAuthenticationException(_fault.Message, _fault) { ReasonCode = _fault.ReasonCode };
            }
        }

        var id = requestId ?? NewRequestId();
        var caller = new TaskCompletionSource<Acknowledgement>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The caller is registered before the sender can see the command, so even an instant ack finds it.
        var command = queue.Enqueue(kind, instructionRef, value, id, _time.GetUtcNow(), queued => _callers[queued.Sequence] = caller);
        Log.Queued(_logger, kind, id, command.Sequence, queue.Count);
        try
        {
            return await caller.Task.WaitAsync(_options.AckTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            throw new PantriAckTimeoutException(
                $"No ack for {Topics.Name(kind)} {id} within {_options.AckTimeout}; it stays queued " +
                $"({(IsConnected ? "connected, waiting for the gateway" : "not connected")}) and is sent until the gateway acknowledges it.",
                exception)
            { Command = command, WasConnected = IsConnected };
        }
        finally
        {
            _callers.TryRemove(command.Sequence, out _);
        }
    }

    private string NewRequestId() => Guid.CreateVersion7(_time.GetUtcNow()).ToString("N");

    private CommandQueue EnsureStarted()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_queue is null)
            {
                _queue = CommandQueue.Open(_options.QueuePath, _options.QueueCapacity, _logger);
                _run = Task.Run(() => RunAsync(_stopping.Token));
            }

            return _queue;
        }
    }

    private void SetState(PantriConnectionState state, Exception? error)
    {
        lock (_lock)
        {
            if (_state == state || _state == PantriConnectionState.Stopped)
            {
                return;
            }

            _state = state;
            if (state == PantriConnectionState.Connected)
            {
                _connected.TrySetResult();
            }
            else if (state is PantriConnectionState.Connecting or PantriConnectionState.Disconnected && _connected.Task.IsCompleted && _fault is null)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        Raise(ConnectionStateChanged, new PantriConnectionStateChangedEventArgs(state, error), nameof(ConnectionStateChanged));
    }

    private void Raise<T>(EventHandler<T>? handler, T args, string name)
    {
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(this, args);
        }
#pragma warning disable CA1031 // A user's handler must not stop the connection or the sender.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, exception, name);
        }
    }
}
