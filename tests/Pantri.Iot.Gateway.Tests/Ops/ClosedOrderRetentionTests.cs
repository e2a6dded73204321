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
