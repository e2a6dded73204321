using System.Threading.Channels;
using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Ops events, inventory, order updates: published after their commit, off the writer thread, in order.
/// Acks do not pass here; they are published by whoever awaits the command, right after its commit.</summary>
public sealed partial class OutboundPublisher(IGatewayPublisher publisher, ILogger<OutboundPublisher> logger) : BackgroundService
{
    private readonly Channel<OutboundMessage> _channel = Channel.CreateUnbounded<OutboundMessage>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues messages for publishing.</summary>
    public void Enqueue(IEnumerable<OutboundMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var message in messages)
        {
            _channel.Writer.TryWrite(message);
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in _channel.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await publisher.PublishAsync(message, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(logger, ex, message.Topic);
            }
        }
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Publishing to {Topic} failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string topic);
}
