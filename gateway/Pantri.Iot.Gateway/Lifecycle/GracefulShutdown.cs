using Microsoft.Extensions.Options;
using Pantri.Iot.Broker;
using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Gateway.Lifecycle;

/// <summary>SIGTERM without losing an ack. Hosted services stop in reverse registration order and the broker is
/// registered last (it must start last, once the writer has loaded the state), so it would stop first and drop every
/// connection while commands were still being committed: committed, never acknowledged — or PUBACKed while the ack still
/// sat in the session's queue. So before any hosted service stops (<see cref="IHostedLifecycleService.StoppingAsync"/>,
/// which the host calls for every service before the first <c>StopAsync</c>), this drains:
/// <list type="number">
/// <item>new MQTT requests are no longer taken: they are held unanswered, without PUBACK, until their connection closes,
/// so the device retries them (same RequestId) against the next gateway; HTTP requests still in progress complete, and
/// their response is their ack;</item>
/// <item>the requests in flight are committed by the writer and their acks queued into the devices' sessions;</item>
/// <item>the acks queued for connected devices are written to their connections;</item>
/// </list>
/// then the services stop: the broker closes the connections, the writer commits what is left and stops. Bounded by
/// <see cref="GatewayOptions.ShutdownDrainTimeout"/>.</summary>
public sealed partial class GracefulShutdown(
    EmbeddedMqttServer broker,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    // After the queues are empty: the last packet taken from a queue may still be being written.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stopped = new();
    private int _inFlight;
    private int _draining;

    /// <summary>Takes a request in, unless the gateway is draining; a request taken in must be released with
    /// <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        // Dekker with StoppingAsync: both sides write, then read the other's value, with full fences in between.
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _draining) == 0)
        {
            return true;
        }

        Exit();
        return false;
    }

    /// <summary>Releases a request taken in by <see cref="TryEnter"/>.</summary>
    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Holds a request that came too late until its connection closes (or the host has stopped), then throws
    /// <see cref="OperationCanceledException"/>: nothing was done, and no PUBACK is sent for it.</summary>
    public async Task HoldAsync(CancellationToken connection)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(connection, _stopped.Token);
        await Task.Delay(Timeout.InfiniteTimeSpan, time, either.Token).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _draining, 1);
        var started = time.GetTimestamp();
        var limit = options.Value.ShutdownDrainTimeout;
        LogDraining(logger, Volatile.Read(ref _inFlight));
        long undelivered = 0;
        var waited = false;
        try
        {
            while (Volatile.Read(ref _inFlight) > 0 && time.GetElapsedTime(started) < limit)
            {
                waited = true;
                await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
            }

            while ((undelivered = await broker.CountUndeliveredAsync().ConfigureAwait(false)) > 0 && time.GetElapsedTime(started) < limit)
            {
                waited = true;
                await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
            }

            if (waited)
            {
                await Task.Delay(Settle, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's own shutdown timeout ran out first.
        }

        // MQTT over WebSockets rides on HTTP requests: close those connections now, or the HTTP server (stopped before
        // the broker) would wait its shutdown timeout for them.
        await broker.DisconnectWebSocketClientsAsync().ConfigureAwait(false);
        var inFlight = Volatile.Read(ref _inFlight);
        if (inFlight > 0 || undelivered > 0)
        {
            LogDrainIncomplete(logger, time.GetElapsedTime(started), inFlight, undelivered);
        }
        else
        {
            LogDrained(logger, time.GetElapsedTime(started));
        }
    }

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => _stopped.CancelAsync();

    /// <inheritdoc/>
    public void Dispose() => _stopped.Dispose();

    [LoggerMessage(EventId = 3306, Level = LogLevel.Information, Message = "Stopping: new MQTT requests are held unanswered (devices retry them after reconnecting); draining {InFlight} in flight")]
    private static partial void LogDraining(ILogger logger, int inFlight);

    [LoggerMessage(EventId = 3307, Level = LogLevel.Information, Message = "Drained in {Elapsed}: every committed request's ack was written to its connection")]
    private static partial void LogDrained(ILogger logger, TimeSpan elapsed);

    [LoggerMessage(EventId = 3308, Level = LogLevel.Warning, Message = "Stopping without a full drain after {Elapsed}: {InFlight} requests in flight, {Undelivered} messages not yet written")]
    private static partial void LogDrainIncomplete(ILogger logger, TimeSpan elapsed, int inFlight, long undelivered);

    /// <summary>The MQTT entry, counted for the drain: a request is taken in only while the gateway is not stopping.</summary>
    internal sealed class DrainingHandler(IDeviceMessageHandler inner, GracefulShutdown shutdown) : IDeviceMessageHandler
    {
        public async Task HandleAsync(DeviceMessage message, CancellationToken cancellationToken)
        {
            if (!shutdown.TryEnter())
            {
                await shutdown.HoldAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            try
            {
                await inner.HandleAsync(message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                shutdown.Exit();
            }
        }
    }
}
