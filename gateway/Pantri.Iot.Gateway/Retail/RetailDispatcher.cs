using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>Sends queued submissions (the outbox) to their retailers and records each answer, off the ack path: a
/// press is acknowledged once its order and its outbox entry are committed; this service picks the entry up
/// afterwards. The entry is deleted in the same commit that records the answer, so after a crash anywhere the entry
/// is still there and the order is sent again under the same ref (its idempotency key). Each retailer is worked on
/// by its own task, so a slow or dead retailer (retrying, or with its circuit open) holds up only its own orders. It
/// also plays the sandbox retailer's due steps.</summary>
public sealed partial class RetailDispatcher(
    IGatewayStore store,
    CommandWriter writer,
    RetailerDirectory retailers,
    IOptions<RetailOptions> options,
    TimeProvider time,
    RetailMetrics metrics,
    IOptions<Storage.Postgres.StorageOptions> storage,
    ILogger<RetailDispatcher> logger) : BackgroundService
{
    private const int BatchLimit = 100;

    // This instance's name on the submissions it claims from a shared outbox.
    private readonly string _owner = Environment.MachineName + "/" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + Guid.NewGuid().ToString("N")[..8];
    private readonly Dictionary<string, Task> _inFlight = new(StringComparer.Ordinal);

    // Retailers that could not be reached, and when to try them again: the wait doubles from the poll interval up to
    // MaxUnavailableWait (or the retailer's circuit break, if shorter), so a retailer that is down (its circuit open)
    // is not asked — and not logged about — four times a second. Any answer from it ends the wait.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset Until, TimeSpan Wait)> _unavailable = new(StringComparer.Ordinal);

    /// <summary>The longest wait between two attempts at a retailer that could not be reached.</summary>
    public static readonly TimeSpan MaxUnavailableWait = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            LogDisabled(logger);
            return;
        }

        using var timer = new PeriodicTimer(settings.PollInterval, time);
        do
        {
            try
            {
                await RoundAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // One bad round never stops the loop: what it did not finish is still queued for the next.
                LogRoundFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));

        await Task.WhenAll(_inFlight.Values).ConfigureAwait(false);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        foreach (var done in _inFlight.Where(p => p.Value.IsCompleted).Select(p => p.Key).ToList())
        {
            _inFlight.Remove(done);
        }

        // A shared outbox (several gateway instances) hands each submission to one instance at a time.
        var pending = store is IOutboxClaims claims
            ? claims.ClaimSubmissions(_owner, BatchLimit, storage.Value.OutboxLease)
            : store.PendingSubmissions(BatchLimit);
        var submissions = pending.ToLookup(e => e.Retailer, StringComparer.Ordinal);
        var cancels = store.FindOrdersAwaitingCancel(BatchLimit).ToLookup(o => o.Retailer, StringComparer.Ordinal);
        foreach (var retailer in submissions.Select(g => g.Key).Union(cancels.Select(g => g.Key), StringComparer.Ordinal))
        {
            if (!_inFlight.ContainsKey(retailer) && !WaitingAfterUnavailable(retailer))
            {
                // Submissions first, then cancels, in one task per retailer: a cancel never overtakes the submission
                // it cancels.
                var entries = submissions[retailer].ToList();
                var toCancel = cancels[retailer].ToList();
                _inFlight[retailer] = Task.Run(
                    async () =>
                    {
                        if (await SubmitAllAsync(retailer, entries, cancellationToken).ConfigureAwait(false))
                        {
                            await CancelAllAsync(retailer, toCancel, cancellationToken).ConfigureAwait(false);
                        }
                    },
                    CancellationToken.None);
            }
        }

        foreach (var (order, to) in retailers.Sandbox.DueSteps(store, retailers.IsSandbox, time.GetUtcNow(), BatchLimit).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var quote = to == OrderState.Confirmed ? options.Value.SandboxUnitPrice : null;
            var outcome = await writer.SubmitAsync(new RetailerOrderUpdate(order.Retailer, order.Ref, to, OrderSources.Retailer, SandboxRetailer.Note, quote, quote is null ? null : options.Value.SandboxCurrency), cancellationToken).ConfigureAwait(false);
            LogSandboxStep(logger, order.Ref, to, outcome);
        }
    }

    private bool WaitingAfterUnavailable(string retailer) =>
        _unavailable.TryGetValue(retailer, out var wait) && time.GetUtcNow() < wait.Until;

    private void Unavailable(string retailer)
    {
        var longest = retailers.OptionsOf(retailer)?.BreakDuration is { } breakDuration && breakDuration < MaxUnavailableWait ? breakDuration : MaxUnavailableWait;
        var wait = _unavailable.TryGetValue(retailer, out var previous) ? previous.Wait * 2 : options.Value.PollInterval;
        wait = wait > longest ? longest : wait;
        _unavailable[retailer] = (time.GetUtcNow() + wait, wait);
    }

    // One retailer's queued orders, oldest first; stops at the first one the retailer could not take (the rest would
    // most likely fail the same way) and leaves them for a later round. False when it stopped early.
    private async Task<bool> SubmitAllAsync(string retailer, List<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return true;
        }

        var connector = retailers.ConnectorOf(retailer);
        var deadline = retailers.OptionsOf(retailer)?.Deadline;
        HashSet<long> sending;
        try
        {
            // Recorded before anything leaves: an order cancelled before this is not sent; one cancelled after it is
            // cancelled at the retailer too.
            sending = [.. await writer.SubmitAsync(new RetailerSending(retailer, entries.Select(e => e.OrderRef).ToList()), cancellationToken).ConfigureAwait(false)];
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        // One read for the whole round, after the sending was recorded: a read per order waited each time for LiteDB to
        // take in the update of the order before it.
        Dictionary<long, Order> orders;
        try
        {
            orders = store.FindOrdersByRef(entries.Select(e => e.OrderRef).ToList()).ToDictionary(o => o.Ref);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSubmitFailed(logger, ex, entries[0].OrderRef, retailer);
            return false;
        }

        foreach (var entry in entries)
        {
            try
            {
                var order = orders.GetValueOrDefault(entry.OrderRef);
                if (order is not { State: OrderState.Placed } || !sending.Contains(order.Ref))
                {
                    continue;
                }

                SubmissionResult answer;
                try
                {
                    answer = await connector.SubmitAsync(order, cancellationToken).ConfigureAwait(false);
                }
                catch (RetailerUnavailableException ex)
                {
                    metrics.Submitted(retailer, "unavailable");
                    if (deadline is { } limit && time.GetUtcNow() - entry.QueuedAt >= limit)
                    {
                        var reason = $"{retailer} could not be reached within {limit}: {ex.Message}";
                        var failed = await writer.SubmitAsync(new RetailerOrderUpdate(retailer, order.Ref, OrderState.Failed, OrderSources.Gateway, reason), cancellationToken).ConfigureAwait(false);
                        LogGaveUp(logger, order.Ref, retailer, ex.Message, failed);
                        continue;
                    }

                    LogUnavailable(logger, order.Ref, retailer, ex.Message);
                    Unavailable(retailer);
                    return false;
                }

                _unavailable.TryRemove(retailer, out _);
                metrics.Submitted(retailer, answer.State.ToString().ToLowerInvariant());
                var outcome = await writer.SubmitAsync(new RetailerOrderUpdate(retailer, order.Ref, answer.State, OrderSources.Retailer, answer.Reason, answer.UnitPrice, answer.Currency), cancellationToken).ConfigureAwait(false);
                LogSubmitted(logger, order.Ref, retailer, answer.State, outcome);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                LogSubmitFailed(logger, ex, entry.OrderRef, retailer);
                return false;
            }
        }

        return true;
    }

    // One retailer's household cancels, oldest request first. An order still Placed waits for its submission's answer
    // (a cancel must not overtake it); the rest are forwarded and the answer recorded, which ends the request.
    private async Task CancelAllAsync(string retailer, List<Order> orders, CancellationToken cancellationToken)
    {
        var connector = retailers.ConnectorOf(retailer);
        foreach (var queued in orders)
        {
            try
            {
                var order = store.FindOrder(queued.Ref);
                if (order is not { IsOpen: true, CancelRequestedAt: not null } || order.State == OrderState.Placed)
                {
                    continue;
                }

                CancelResult answer;
                try
                {
                    answer = await connector.CancelAsync(order, cancellationToken).ConfigureAwait(false);
                }
                catch (RetailerUnavailableException ex)
                {
                    metrics.Cancelled(retailer, "unavailable");
                    LogCancelUnavailable(logger, order.Ref, retailer, ex.Message);
                    Unavailable(retailer);
                    return;
                }

                _unavailable.TryRemove(retailer, out _);
                metrics.Cancelled(retailer, answer.Accepted ? "accepted" : "refused");
                var outcome = await writer.SubmitAsync(new RetailerCancelAnswer(retailer, order.Ref, answer.Accepted, answer.Reason), cancellationToken).ConfigureAwait(false);
                LogCancelAnswered(logger, order.Ref, retailer, answer.Accepted, answer.Reason, outcome);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogCancelFailed(logger, ex, queued.Ref, retailer);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 3600, Level = LogLevel.Information, Message = "Order dispatch is off (Pantri:Retail:Enabled = false): placed orders stay queued and are not sent to any retailer")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Error, Message = "An order dispatch round failed; what it did not finish stays queued for the next round")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "Order {OrderRef} submitted to {Retailer}: {State} (recorded: {Outcome})")]
    private static partial void LogSubmitted(ILogger logger, long orderRef, string retailer, OrderState state, OrderMoveOutcome? outcome);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Debug, Message = "Sandbox retailer moved order {OrderRef} to {State} (recorded: {Outcome})")]
    private static partial void LogSandboxStep(ILogger logger, long orderRef, OrderState state, OrderMoveOutcome? outcome);

    [LoggerMessage(EventId = 3604, Level = LogLevel.Warning, Message = "Order {OrderRef} could not be submitted to {Retailer} ({Problem}); it stays queued and is retried")]
    private static partial void LogUnavailable(ILogger logger, long orderRef, string retailer, string problem);

    [LoggerMessage(EventId = 3605, Level = LogLevel.Warning, Message = "Order {OrderRef} failed: {Retailer} stayed unreachable past its deadline ({Problem}) (recorded: {Outcome})")]
    private static partial void LogGaveUp(ILogger logger, long orderRef, string retailer, string problem, OrderMoveOutcome? outcome);

    [LoggerMessage(EventId = 3606, Level = LogLevel.Error, Message = "Submitting order {OrderRef} to {Retailer} failed unexpectedly; it stays queued")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception, long orderRef, string retailer);

    [LoggerMessage(EventId = 3650, Level = LogLevel.Information, Message = "Household cancel of order {OrderRef} forwarded to {Retailer}: accepted {Accepted} ({Reason}) (recorded: {Outcome})")]
    private static partial void LogCancelAnswered(ILogger logger, long orderRef, string retailer, bool accepted, string? reason, OrderMoveOutcome? outcome);

    [LoggerMessage(EventId = 3651, Level = LogLevel.Warning, Message = "Household cancel of order {OrderRef} could not reach {Retailer} ({Problem}); it stays queued and is retried")]
    private static partial void LogCancelUnavailable(ILogger logger, long orderRef, string retailer, string problem);

    [LoggerMessage(EventId = 3652, Level = LogLevel.Error, Message = "Forwarding the household cancel of order {OrderRef} to {Retailer} failed unexpectedly; it stays queued")]
    private static partial void LogCancelFailed(ILogger logger, Exception exception, long orderRef, string retailer);
}
