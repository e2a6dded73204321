using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Outbound;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Processing;

/// <summary>The single writer. Every command that reads or changes household state runs here, one at a time on
/// one thread, so races between devices cannot make two orders. Commands are grouped: a batch is decided in
/// memory, committed to LiteDB in one transaction, and only then are its callers released to ack (group commit:
/// LiteDB's bulk speed with ack-after-commit). If the commit fails, every command of the batch gets "unavailable"
/// and the in-memory state is reloaded from storage, so nothing unrecorded is ever acted on.</summary>
public sealed partial class CommandProcessor : IHostedService, IDisposable
{
    private readonly IGatewayStore _store;
    private readonly TimeProvider _time;
    private readonly GatewayOptions _options;
    private readonly OutboundQueue _outbound;
    private readonly DeviceDirectory _directory;
    private readonly ILogger<CommandProcessor> _logger;
    private readonly Channel<WorkItem> _queue;
    private Thread? _thread;
    private WorkContext? _context;
    private RefAllocator? _refs;
    private long _committedBatches;
    private long _committedCommands;

    /// <summary>Creates the processor; <see cref="StartAsync"/> loads the state.</summary>
    public CommandProcessor(IGatewayStore store, TimeProvider time, IOptions<GatewayOptions> options, OutboundQueue outbound, DeviceDirectory directory, ILogger<CommandProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _time = time;
        _options = options.Value;
        _outbound = outbound;
        _directory = directory;
        _logger = logger;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(_options.MaxQueuedCommands) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>Batches committed so far.</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    /// <summary>Commands committed so far.</summary>
    public long CommittedCommands => Interlocked.Read(ref _committedCommands);

    /// <summary>Runs <paramref name="work"/> on the writer thread and completes after its batch is committed. When
    /// the commit fails (or the queue is full) the result is <paramref name="whenUnavailable"/>'s instead.</summary>
    public Task<T> RunAsync<T>(Func<WorkContext, T> work, Func<long, T> whenUnavailable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(whenUnavailable);
        var item = new WorkItem<T>(work, whenUnavailable);
        if (_refs is null || !_queue.Writer.TryWrite(item))
        {
            LogQueueFull(_logger);
            return Task.FromResult(whenUnavailable(_refs?.Next() ?? 0));
        }

        return cancellationToken.CanBeCanceled ? item.Task.WaitAsync(cancellationToken) : item.Task;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var state = _store.Load();
        var meta = state.Meta;
        if (string.IsNullOrEmpty(meta.RefKey))
        {
            meta.RefKey = Convert.ToBase64String(RefAllocator.NewKey());
        }

        _refs = new RefAllocator(Convert.FromBase64String(meta.RefKey), meta.ReservedUpTo);
        Reserve(meta);
        var ledger = new ReplenishmentLedger(state.Devices, state.Instructions, state.OpenOrders);
        _directory.Load(state.Devices);
        _context = new WorkContext(_store, _refs, new TokenBucketLimiter(_options.CommandsPerSecond, _options.CommandBurst), ledger, meta);
        _context.LoadRecentKeys(_time.GetUtcNow() - _options.IdempotencyWindow);
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "pantri-writer" };
        _thread.Start();
        LogStarted(_logger, _options.DatabasePath, state.Devices.Count, state.Instructions.Count, state.OpenOrders.Count);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        _thread?.Join(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
    }

    private void Reserve(GatewayMeta meta)
    {
        var upTo = _refs!.NextReservation();
        var previous = meta.ReservedUpTo;
        meta.ReservedUpTo = upTo;
        var batch = new WriteBatch { Meta = meta };
        try
        {
            _store.Commit(batch);
        }
        catch
        {
            meta.ReservedUpTo = previous;
            throw;
        }

        _refs.Reserved(upTo);
    }

    private void RunLoop()
    {
        var context = _context!;
        var items = new List<WorkItem>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        var needsReload = false;
        while (WaitForWork(reader))
        {
            items.Clear();
            while (items.Count < _options.MaxBatchSize && reader.TryRead(out var item))
            {
                items.Add(item);
            }

            try
            {
                if (needsReload)
                {
                    Reload(context);
                    needsReload = false;
                }

                // Each command may take a few refs; keep a whole batch inside the stored reservation.
                if (_refs!.Remaining < (items.Count * 4) + 1024)
                {
                    Reserve(context.Meta);
                }
            }
            catch (Exception ex)
            {
                LogCommitFailed(_logger, ex, items.Count);
                needsReload = true;
                FailAll(items);
                continue;
            }

            context.Reset(_time.GetUtcNow());
            foreach (var item in items)
            {
                try
                {
                    item.Execute(context);
                }
                catch (Exception ex)
                {
                    // A bug in one command must not stop the writer; its partial effects are dropped by a reload.
                    LogWorkFailed(_logger, ex);
                    needsReload = true;
                }
            }

            try
            {
                context.BuildLatest();
                _store.Commit(context.Batch);
            }
            catch (Exception ex)
            {
                LogCommitFailed(_logger, ex, items.Count);
                needsReload = true;
                FailAll(items);
                continue;
            }

            context.Committed(context.Now - _options.IdempotencyWindow);
            Interlocked.Increment(ref _committedBatches);
            Interlocked.Add(ref _committedCommands, context.Batch.Commands.Count);
            _directory.Apply(context.DeviceChanges);
            _outbound.Enqueue(context.Outbound);
            foreach (var item in items)
            {
                item.Complete(_refs!);
            }

            CompactLog(idle: reader.Count == 0);
        }
    }

    // After the callers are released, so the checkpoint's copy never delays an ack of its own batch.
    private void CompactLog(bool idle)
    {
        try
        {
            _store.CompactLog(idle);
        }
        catch (Exception ex)
        {
            LogCompactFailed(_logger, ex);
        }
    }

    private static bool WaitForWork(ChannelReader<WorkItem> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void FailAll(List<WorkItem> items)
    {
        foreach (var item in items)
        {
            item.Fail(_refs!);
        }
    }

    private void Reload(WorkContext context)
    {
        var state = _store.Load();
        context.Ledger = new ReplenishmentLedger(state.Devices, state.Instructions, state.OpenOrders);
        context.Meta = state.Meta;
        _directory.Load(state.Devices);
        LogReloaded(_logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage {Path} loaded: {Devices} devices, {Instructions} instructions, {OpenOrders} open orders")]
    private static partial void LogStarted(ILogger logger, string path, int devices, int instructions, int openOrders);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit of {Count} commands failed; all get 503 and nothing was recorded")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A command failed while being decided")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Moving the storage log into the data file failed; it is retried after the next batch")]
    private static partial void LogCompactFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "State reloaded from storage after a failure")]
    private static partial void LogReloaded(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command queue full or writer not started; answering 503")]
    private static partial void LogQueueFull(ILogger logger);

    private abstract class WorkItem
    {
        public abstract void Execute(WorkContext context);

        public abstract void Complete(RefAllocator refs);

        public abstract void Fail(RefAllocator refs);
    }

    private sealed class WorkItem<T>(Func<WorkContext, T> work, Func<long, T> whenUnavailable) : WorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _executed;
        private T? _result;

        public Task<T> Task => _completion.Task;

        public override void Execute(WorkContext context)
        {
            _result = work(context);
            _executed = true;
        }

        public override void Complete(RefAllocator refs)
        {
            if (_executed)
            {
                _completion.TrySetResult(_result!);
            }
            else
            {
                Fail(refs);
            }
        }

        public override void Fail(RefAllocator refs) => _completion.TrySetResult(whenUnavailable(refs.Next()));
    }
}
