using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Ops;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Tests.Ops;

/// <summary>The retention between the outbound publisher and the broker: closed orders are cleared from retained after
/// the retention, on the TimeProvider, never before their final state, and the waiting list is bounded.</summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class ClosedOrderRetentionTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly RecordingPublisher _broker = new();

    [Test]
    public async Task A_closed_order_is_cleared_when_the_retention_has_passed_and_not_before()
    {
        using var retention = await StartAsync(Retention, maxPending: 100);

        await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(OrderState.Cancelled, 42)), CancellationToken.None);
        _time.Advance(Retention - TimeSpan.FromSeconds(1));
        var early = await _broker.WaitForClearsAsync(1, TimeSpan.FromMilliseconds(200));
        _time.Advance(TimeSpan.FromSeconds(1));
        var onTime = await _broker.WaitForClearsAsync(1, TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(early, Is.Empty, "one second before the retention the final state is still retained");
            Assert.That(onTime, Is.EqualTo(new[] { Topics.OpsOrder(42) }));
            Assert.That(_broker.Topics, Is.EqualTo(new[] { Topics.OpsOrder(42), Topics.OpsOrder(42) }), "the final state, then its clear");
            Assert.That(retention.PendingClears, Is.Zero);
        });
    }

    [Test]
    public async Task A_clear_is_on_time_when_the_clock_moves_while_the_service_arms_its_timer()
    {
        // The service reads the clock, then arms its timer for "due - now". Here the clock jumps in between, once, as a
        // FakeTimeProvider advanced by a test on another thread can: the timer must not fire late by that jump.
        var clock = new ClockThatJumpsAfterARead(_time);
        var options = Options.Create(new OpsOptions { ClosedOrderRetention = Retention, MaxPendingClears = 100 });
        using var retention = new ClosedOrderRetention(_broker, clock, options, NullLogger<ClosedOrderRetention>.Instance);
        await retention.StartAsync(CancellationToken.None);

        await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(OrderState.Cancelled, 1)), CancellationToken.None);
        _time.Advance(Retention / 2);
        await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(OrderState.Cancelled, 2)), CancellationToken.None);
        // When the first clear is out, the service arms its timer for the second, half the retention away: the clock
        // jumps to one second before that due time between its read and the arming.
        clock.JumpOnceAfterARead(Retention / 2 - TimeSpan.FromSeconds(1), when: () => _broker.Clears.Count == 1);
        _time.Advance(Retention / 2);
        var jumped = await Task.WhenAny(clock.Jumped, Task.Delay(TimeSpan.FromSeconds(10))) == clock.Jumped;
        var early = await _broker.WaitForClearsAsync(2, TimeSpan.FromMilliseconds(200));
        _time.Advance(TimeSpan.FromSeconds(1));
        var onTime = await _broker.WaitForClearsAsync(2, TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(jumped, Is.True, "the service read the clock for the second clear");
            Assert.That(early, Is.EqualTo(new[] { Topics.OpsOrder(1) }), "one second before its due time the second order is still retained");
            Assert.That(onTime, Is.EqualTo(new[] { Topics.OpsOrder(1), Topics.OpsOrder(2) }), "the second clear at its due time, not a jump later");
        });
    }

    [Test]
    public async Task Open_orders_inventory_and_presence_pass_through_untouched()
    {
        using var retention = await StartAsync(TimeSpan.Zero, maxPending: 100);
        var instruction = new Instruction { Ref = 7, Tracking = new Tracking { Level = 3, ReorderAt = 1 } };

        foreach (var state in new[] { OrderState.Placed, OrderState.Submitted, OrderState.Confirmed })
        {
            await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(state, 42)), CancellationToken.None);
        }

        await retention.PublishAsync(OutboundMessages.Inventory(instruction, _time.GetUtcNow()), CancellationToken.None);
        await retention.PublishAsync(OutboundMessages.PresenceAfterRestart("demo-jar"), CancellationToken.None);

        Assert.That(await _broker.WaitForClearsAsync(1, TimeSpan.FromMilliseconds(200)), Is.Empty);
        Assert.That(_broker.Topics, Has.Count.EqualTo(5));
        Assert.That(retention.PendingClears, Is.Zero);
    }

    [Test]
    public async Task With_a_zero_retention_the_clear_still_follows_the_final_state()
    {
        using var retention = await StartAsync(TimeSpan.Zero, maxPending: 100);

        foreach (var state in new[] { OrderState.Delivered, OrderState.Failed })
        {
            await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(state, (long)state)), CancellationToken.None);
        }

        Assert.That(await _broker.WaitForClearsAsync(2, TimeSpan.FromSeconds(5)), Has.Count.EqualTo(2));
        var sequence = _broker.Messages.Select(m => (m.Topic, Clear: m.Payload.IsEmpty)).ToList();
        foreach (var topic in sequence.Select(m => m.Topic).Distinct())
        {
            Assert.That(sequence.Where(m => m.Topic == topic).Select(m => m.Clear), Is.EqualTo(new[] { false, true }), topic);
        }
    }

    [Test]
    public async Task Past_the_bound_the_oldest_waiting_order_is_cleared_at_once()
    {
        using var retention = await StartAsync(Retention, maxPending: 2);

        for (long orderRef = 1; orderRef <= 5; orderRef++)
        {
            await retention.PublishAsync(OutboundMessages.OpsOrder(OrderIn(OrderState.Cancelled, orderRef)), CancellationToken.None);
        }

        Assert.Multiple(() =>
        {
            Assert.That(_broker.Clears, Is.EqualTo(new[] { Topics.OpsOrder(1), Topics.OpsOrder(2), Topics.OpsOrder(3) }), "no time passed");
            Assert.That(retention.PendingClears, Is.EqualTo(2));
        });
        _time.Advance(Retention);
        Assert.That(await _broker.WaitForClearsAsync(5, TimeSpan.FromSeconds(5)), Has.Count.EqualTo(5));
    }

    private async Task<ClosedOrderRetention> StartAsync(TimeSpan retention, int maxPending)
    {
        var options = Options.Create(new OpsOptions { ClosedOrderRetention = retention, MaxPendingClears = maxPending });
        var service = new ClosedOrderRetention(_broker, _time, options, NullLogger<ClosedOrderRetention>.Instance);
        await service.StartAsync(CancellationToken.None);
        return service;
    }

    private static Order OrderIn(OrderState state, long orderRef) => new()
    {
        Ref = orderRef, InstructionRef = 7, AccountId = "a", State = state, Product = "p", Retailer = "r", Quantity = 1,
    };

    /// <summary>A clock that jumps once, right after the service under test read it, when a condition holds: the
    /// interleaving where another thread advances a FakeTimeProvider between the service's read and its next step.</summary>
    private sealed class ClockThatJumpsAfterARead(FakeTimeProvider inner) : TimeProvider
    {
        private readonly TaskCompletionSource _jumped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Func<bool>? _when;
        private TimeSpan _by;

        public Task Jumped => _jumped.Task;

        public void JumpOnceAfterARead(TimeSpan by, Func<bool> when)
        {
            _by = by;
            Volatile.Write(ref _when, when);
        }

        public override DateTimeOffset GetUtcNow()
        {
            var now = inner.GetUtcNow();
            if (Volatile.Read(ref _when) is { } when && when() && Interlocked.CompareExchange(ref _when, null, when) == when)
            {
                inner.Advance(_by);
                _jumped.SetResult();
            }

            return now;
        }

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);
    }

    private sealed class RecordingPublisher : IGatewayPublisher
    {
        private readonly List<OutboundMessage> _messages = [];

        public IReadOnlyList<OutboundMessage> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public List<string> Topics => Messages.Select(m => m.Topic).ToList();

        public List<string> Clears => Messages.Where(m => m.Retain && m.Payload.IsEmpty).Select(m => m.Topic).ToList();

        public Task PublishAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }

            return Task.CompletedTask;
        }

        /// <summary>The clears so far, once there are <paramref name="count"/> of them or <paramref name="timeout"/> passed.</summary>
        public async Task<IReadOnlyList<string>> WaitForClearsAsync(int count, TimeSpan timeout)
        {
            var waited = Stopwatch.StartNew();
            while (Clears.Count < count && waited.Elapsed < timeout)
            {
                await Task.Delay(10);
            }

            return Clears;
        }
    }
}
