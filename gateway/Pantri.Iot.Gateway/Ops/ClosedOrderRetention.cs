using Microsoft.Extensions.Options;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Ops;

/// <summary>Keeps closed orders from piling up in the broker's retained store: every order ever placed would
/// otherwise stay retained on <c>pantri/v1/ops/orders/{OrderRef}</c> for the life of the process. Sits between the
/// <see cref="OutboundPublisher"/> and the broker; when an order's closed state (Delivered, Failed, Cancelled) has been
/// published, it clears that topic (an empty retained publish) once <see cref="OpsOptions.ClosedOrderRetention"/> has
/// passed on the <see cref="TimeProvider"/>. A dashboard that subscribes before then sees the final state, one that
/// subscribes after sees no closed order.</summary>
/// <remarks>The waiting clears are a FIFO (the retention is one value, so due times only grow) bounded by
/// <see cref="OpsOptions.MaxPendingClears"/>: past it the oldest is cleared at once. A closed order never changes
/// again, so a clear can never remove a newer state. Waiting clears are memory only: after a restart only open orders
/// are rebuilt (<see cref="OpsStateRebuild"/>), so closed ones are gone anyway.</remarks>
public sealed partial class ClosedOrderRetention : BackgroundService, IGatewayPublisher
{
    private readonly IGatewayPublisher _broker;
    private readonly TimeProvider _time;
    private readonly OpsOptions _options;
    private readonly ILogger<ClosedOrderRetention> _logger;
    private readonly Queue<PendingClear> _pending = new();
    private readonly Lock _pendingLock = new();
    private readonly SemaphoreSlim _wake = new(0);
    // How far the clock may move while the timer is armed before it is armed again: a clear that late is still on time.
    private static readonly TimeSpan ArmingTolerance = TimeSpan.FromMilliseconds(1);

    private readonly ITimer _dueTimer;
    private long _clearedEarly;

    /// <summary>Wraps <paramref name="broker"/>, the publisher the gateway's messages finally go to.</summary>
    public ClosedOrderRetention(IGatewayPublisher broker, TimeProvider time, IOptions<OpsOptions> options, ILogger<ClosedOrderRetention> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _broker = broker;
        _time = time;
        _options = options.Value;
        _logger = logger;
        // The loop sleeps on this timer, armed for the head of the queue: by Schedule when the queue was empty, by the
        // loop when it has cleared the head. A timer on the TimeProvider, rather than a delay the loop awaits, fires
        // when a test advances a FakeTimeProvider past the due time, whichever thread advances it.
        _dueTimer = time.CreateTimer(_ => Wake(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Closed orders whose retained state is waiting for the end of its retention.</summary>
    public int PendingClears
    {
        get
        {
            lock (_pendingLock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Publishes <paramref name="message"/>; when it is a closed order's retained state, schedules its clear.</summary>
    public async Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!OutboundMessages.IsClosedOrder(message, out var orderRef))
        {
            await _broker.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Due from now, before publishing; queued after, so even a zero retention clears after the final state.
        var due = _time.GetUtcNow() + _options.ClosedOrderRetention;
        await _broker.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        if (Schedule(new PendingClear(orderRef, due)) is { } evicted)
        {
            var early = Interlocked.Increment(ref _clearedEarly);
            if (early == 1 || early % 1000 == 0)
            {
                LogClearedEarly(_logger, _options.MaxPendingClears, early);
            }

            await ClearAsync(evicted.OrderRef, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        base.Dispose();
        _dueTimer.Dispose();
        _wake.Dispose();
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            PendingClear? due = null;
            lock (_pendingLock)
            {
                if (_pending.TryPeek(out var head))
                {
                    if (head.Due <= _time.GetUtcNow())
                    {
                        due = _pending.Dequeue();
                    }
                    else
                    {
                        ArmTimerFor(head.Due);
                    }
                }
            }

            if (due is { } clear)
            {
                await ClearAsync(clear.OrderRef, stoppingToken).ConfigureAwait(false);
                continue;
            }

            await _wake.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // Stopped: nothing left to wake.
        }
    }

    /// <summary>Queues a clear; returns the oldest one when the queue was full (the caller clears it now).</summary>
    private PendingClear? Schedule(PendingClear clear)
    {
        PendingClear? evicted = null;
        bool wasEmpty;
        lock (_pendingLock)
        {
            if (_pending.Count >= _options.MaxPendingClears)
            {
                evicted = _pending.Dequeue();
            }

            wasEmpty = _pending.Count == 0;
            _pending.Enqueue(clear);
            if (wasEmpty)
            {
                ArmTimerFor(clear.Due);
            }
        }

        return evicted;
    }

    /// <summary>Arms the timer for <paramref name="due"/>. A timer takes a time from now, and "now" was read just before
    /// arming: when the clock moved in between (another thread advancing a FakeTimeProvider; a long preemption), the timer
    /// would fire late by that much, so it is armed again from the clock's new reading. A due time already passed fires
    /// at once.</summary>
    private void ArmTimerFor(DateTimeOffset due)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            _dueTimer.Change(Max(due - now, TimeSpan.Zero), Timeout.InfiniteTimeSpan);
            var after = _time.GetUtcNow();
            if (after - now <= ArmingTolerance)
            {
                return;
            }

            now = after;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task ClearAsync(long orderRef, CancellationToken cancellationToken)
    {
        try
        {
            await _broker.PublishAsync(OutboundMessages.ClearRetained(Topics.OpsOrder(orderRef)), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogClearFailed(_logger, ex, orderRef);
        }
    }

    [LoggerMessage(EventId = 3503, Level = LogLevel.Warning, Message = "More than {MaxPendingClears} closed orders are waiting for their retention to end; {ClearedEarly} cleared from retained early so far")]
    private static partial void LogClearedEarly(ILogger logger, int maxPendingClears, long clearedEarly);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Warning, Message = "Clearing the retained state of closed order {OrderRef} failed; it stays retained until the gateway restarts")]
    private static partial void LogClearFailed(ILogger logger, Exception exception, long orderRef);

    /// <summary>A closed order and when its retained state is cleared. Refs are positive, so a default entry means none.</summary>
    private readonly record struct PendingClear(long OrderRef, DateTimeOffset Due);
}
