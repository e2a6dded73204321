using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>Sends queued submissions (the outbox) to the retailer and records its answer, off the ack path: a press is
/// acknowledged once its order and its outbox entry are committed; this service picks the entry up afterwards. The
/// entry is deleted in the same commit that records the answer, so after a crash anywhere the entry is still there
/// and the order is sent again under the same ref (its idempotency key) — at least once to us, exactly once to a
/// retailer that honours the key. It also plays the sandbox retailer's due steps.</summary>
public sealed partial class RetailDispatcher(
    IGatewayStore store,
    CommandWriter writer,
    SandboxRetailer sandbox,
    IOptions<RetailOptions> options,
    TimeProvider time,
    ILogger<RetailDispatcher> logger) : BackgroundService
{
    private const int BatchLimit = 100;

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
        foreach (var entry in store.PendingSubmissions(BatchLimit))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var order = store.FindOrder(entry.OrderRef);
            if (order is not { State: OrderState.Placed })
            {
                continue;
            }

            var answer = await sandbox.SubmitAsync(order, cancellationToken).ConfigureAwait(false);
            var outcome = await writer.SubmitAsync(new RetailerOrderUpdate(order.Retailer, order.Ref, answer.State, OrderSources.Retailer, answer.Reason), cancellationToken).ConfigureAwait(false);
            LogSubmitted(logger, order.Ref, order.Retailer, answer.State, outcome);
        }

        foreach (var (order, to) in sandbox.DueSteps(store, time.GetUtcNow(), BatchLimit).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = await writer.SubmitAsync(new RetailerOrderUpdate(order.Retailer, order.Ref, to, OrderSources.Retailer, SandboxRetailer.Note), cancellationToken).ConfigureAwait(false);
            LogSandboxStep(logger, order.Ref, to, outcome);
        }
    }

    [LoggerMessage(EventId = 3600, Level = LogLevel.Warning, Message = "Order dispatch is off (Pantri:Retail:Enabled = false): placed orders stay queued and are not sent to any retailer")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Error, Message = "An order dispatch round failed; what it did not finish stays queued for the next round")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "Order {OrderRef} submitted to {Retailer}: {State} (recorded: {Outcome})")]
    private static partial void LogSubmitted(ILogger logger, long orderRef, string retailer, OrderState state, OrderMoveOutcome? outcome);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Debug, Message = "Sandbox retailer moved order {OrderRef} to {State} (recorded: {Outcome})")]
    private static partial void LogSandboxStep(ILogger logger, long orderRef, OrderState state, OrderMoveOutcome? outcome);
}
