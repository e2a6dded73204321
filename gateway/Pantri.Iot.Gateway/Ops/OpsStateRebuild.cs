using System.Diagnostics;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Ops;

/// <summary>Rebuilds the retained ops state at start. MQTTnet keeps retained messages in memory only, so without this
/// a dashboard that subscribes after a restart would see only what changed since. Publishes, from the state the writer
/// loaded from storage: every open order (<c>pantri/v1/ops/orders/{OrderRef}</c>), every tracked instruction's
/// inventory (<c>pantri/v1/ops/inventory/{Instruction_Ref}</c>) and every device's presence
/// (<c>pantri/v1/ops/devices/{DeviceId}</c>: offline, <c>Reason</c> <c>gateway-restarted</c>, no <c>LastSeen</c>).</summary>
/// <remarks>Starts after the writer (which loads the state) and before the broker: the broker holds retained messages
/// published before it starts and loads them into its store before it accepts a client, so a device that connects
/// right away is shown online, never overwritten by this rebuild. The snapshot is taken on the writer thread, so it is
/// one consistent state; nothing can change it between the snapshot and the publish, because neither the broker nor the
/// HTTP server has started yet.
/// <para>When a device was last seen is not stored: presence comes from the broker's CONNECT/DISCONNECT, which never
/// pass through the writer, and writing it would put storage on the connect path that reconnect storms serialise on.
/// After a restart a dashboard sees every device offline with <c>Reason</c> <c>gateway-restarted</c> and no
/// <c>LastSeen</c> until it connects; the commands a device sent stay in storage.</para></remarks>
public sealed partial class OpsStateRebuild(CommandWriter writer, IGatewayPublisher publisher, ILogger<OpsStateRebuild> logger) : IHostedService
{
    /// <summary>What the last start published and how long it took, or null before it ran (or when it could not).</summary>
    public OpsRebuildResult? LastRebuild { get; private set; }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var snapshot = await writer.SubmitAsync(new OpsSnapshotCommand(), cancellationToken).ConfigureAwait(false);
        if (snapshot is null)
        {
            LogUnavailable(logger);
            return;
        }

        foreach (var message in snapshot.Messages)
        {
            await publisher.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        }

        var result = new OpsRebuildResult(snapshot.Devices, snapshot.Inventories, snapshot.OpenOrders, Stopwatch.GetElapsedTime(started));
        LastRebuild = result;
        LogRebuilt(logger, result.Devices, result.Inventories, result.OpenOrders, result.Elapsed.TotalMilliseconds);
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Ops state rebuilt from storage: {Devices} devices offline, {Inventories} inventories, {OpenOrders} open orders retained in {ElapsedMs:F1} ms")]
    private static partial void LogRebuilt(ILogger logger, int devices, int inventories, int openOrders, double elapsedMs);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning, Message = "Ops state could not be rebuilt (the writer is unavailable); dashboards see only what changes from now on")]
    private static partial void LogUnavailable(ILogger logger);

    private sealed record OpsSnapshot(IReadOnlyList<OutboundMessage> Messages, int Devices, int Inventories, int OpenOrders);

    /// <summary>Builds every retained message from the ledger, on the writer thread; records and changes nothing.</summary>
    private sealed class OpsSnapshotCommand : IWriterCommand<OpsSnapshot?>
    {
        public OpsSnapshot? Execute(UnitOfWork work)
        {
            var ledger = work.Ledger;
            var messages = new List<OutboundMessage>(ledger.Devices.Count + (ledger.Instructions.Count * 2));
            foreach (var deviceId in ledger.Devices.Keys)
            {
                messages.Add(OutboundMessages.PresenceAfterRestart(deviceId));
            }

            var inventories = 0;
            var openOrders = 0;
            foreach (var instruction in ledger.Instructions.Values)
            {
                if (instruction.Tracking is not null)
                {
                    messages.Add(OutboundMessages.Inventory(instruction, work.Now));
                    inventories++;
                }

                if (ledger.OpenOrderFor(instruction.Ref) is { } order)
                {
                    messages.Add(OutboundMessages.OpsOrder(order));
                    openOrders++;
                }
            }

            return new OpsSnapshot(messages, ledger.Devices.Count, inventories, openOrders);
        }

        public OpsSnapshot? Unavailable(long commandRef) => null;
    }
}

/// <summary>What <see cref="OpsStateRebuild"/> published at start.</summary>
/// <param name="Devices">Devices whose presence was published (offline).</param>
/// <param name="Inventories">Tracked instructions whose inventory was published.</param>
/// <param name="OpenOrders">Open orders whose state was published.</param>
/// <param name="Elapsed">From asking the writer for the state to the last message handed to the broker.</param>
public sealed record OpsRebuildResult(int Devices, int Inventories, int OpenOrders, TimeSpan Elapsed);
