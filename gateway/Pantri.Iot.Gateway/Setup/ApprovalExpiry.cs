using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>Cancels orders nobody approved within <see cref="SafeguardOptions.ApprovalTimeout"/>, through the writer
/// like any change (so an approval racing the expiry is decided one way, once). Runs on the <see cref="TimeProvider"/>.</summary>
public sealed partial class ApprovalExpiry(CommandWriter writer, IOptions<SafeguardOptions> options, TimeProvider time, ILogger<ApprovalExpiry> logger) : BackgroundService
{
    private const int BatchLimit = 100;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.ExpiryCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    int expired;
                    do
                    {
                        expired = await writer.SubmitAsync(new ExpireApprovals(settings.ApprovalTimeout, BatchLimit), stoppingToken).ConfigureAwait(false);
                        if (expired > 0)
                        {
                            LogExpired(logger, expired);
                        }
                    }
                    while (expired == BatchLimit);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One bad tick never stops the loop: the next one looks again.
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 3800, Level = LogLevel.Information, Message = "{Count} orders waited for approval too long and were cancelled (approval expired)")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(EventId = 3801, Level = LogLevel.Error, Message = "Checking orders awaiting approval for expiry failed; the next tick tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
