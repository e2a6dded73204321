using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>The single writer. Every command that reads or changes household state runs here, one at a time on
/// one thread, so races between devices cannot make two orders. Commands are grouped: a batch is decided in
/// memory, committed to LiteDB in one transaction, and only then are its callers released to ack (group commit:
/// LiteDB's bulk speed with ack-after-commit). If the commit fails, every command of the batch gets "unavailable"
/// and the in-memory state is reloaded from storage, so nothing unrecorded is ever acted on.</summary>
public sealed partial class CommandWriter : IHostedService, IDisposable
{
    private readonly IGatewayStore _store;
    private readonly TimeProvider _time;
    private readonly GatewayOptions _options;
    private readonly OutboundPublisher _outbound;
    private readonly DeviceDirectory _directory;
    private readonly ILogger<CommandWriter> _logger;
    private readonly Channel<WorkItem> _queue;
    private Thread? _thread;
    private UnitOfWork? _work;
    private RefAllocator? _refs;

    /// <summary>Creates the writer; <see cref="StartAsync"/> loads the state.</summary>
    public CommandWriter(IGatewayStore store, TimeProvider time, IOptions<GatewayOptions> options, OutboundPublisher outbound, DeviceDirectory directory, ILogger<CommandWriter> logger)
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

    /// <summary>Runs <paramref name="command"/> on the writer thread and completes after its batch is committed. When
    /// the commit fails (or the queue is full) the result is the command's <see cref="IWriterCommand{T}.Unavailable"/>.</summary>
    public Task<TResult> SubmitAsync<TResult>(IWriterCommand<TResult> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var item = new WorkItem<TResult>(command);
        if (_refs is null || !_queue.Writer.TryWrite(item))
        {
            LogQueueFull(_logger);
            return Task.FromResult(command.Unavailable(_refs?.Next() ?? 0));
        }

        return cancellationToken.CanBeCanceled ? item.Task.WaitAsync(cancellationToken) : item.Task;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        StoredState state;
        var idempotency = new IdempotencyIndex(_store, _options.IdempotencyWindow);
        try
        {
            // Everything the writer decides with is read here, so damage anywhere in it refuses the start.
            state = _store.Load();
            idempotency.Load(_time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw StoreStartup.Unreadable(_options.DatabasePath, ex);
        }

        var meta = state.Meta;
        if (string.IsNullOrEmpty(meta.RefKey))
        {
            meta.RefKey = Convert.ToBase64String(RefAllocator.NewKey());
        }

        _refs = new RefAllocator(Convert.FromBase64String(meta.RefKey), meta.ReservedUpTo);
        Reserve(meta);
        _directory.Load(state.Devices);
        _work = new UnitOfWork(_refs, new TokenBucketLimiter(_options.CommandsPerSecond, _options.CommandBurst), idempotency, Ledger(state), meta);
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
    public void Dispose() => _queue.Writer.TryComplete();

    private static ReplenishmentLedger Ledger(StoredState state) => new(state.Devices, state.Instructions, state.OpenOrders);

    private void Reserve(GatewayMeta meta)
    {
        var upTo = _refs!.NextReservation();
        var previous = meta.ReservedUpTo;
        meta.ReservedUpTo = upTo;
        try
        {
            _store.Commit(new WriteBatch { Meta = meta });
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
        var work = _work!;
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

            if (!Prepare(work, items.Count, ref needsReload))
            {
                FailAll(items);
                continue;
            }

            work.Begin(_time.GetUtcNow());
            foreach (var item in items)
            {
                needsReload |= !Execute(work, item);
            }

            if (!Commit(work, items.Count))
            {
                needsReload = true;
                FailAll(items);
                continue;
            }

            _directory.Apply(work.DeviceChanges);
            _outbound.Enqueue(work.Outbound);
            foreach (var item in items)
            {
                item.Complete(_refs!);
            }

            CompactLog(idle: reader.Count == 0);
        }
    }

    // Before a batch: reload after an earlier failure, and keep the whole batch inside the stored ref reservation
    // (each command may take a few refs).
    private bool Prepare(UnitOfWork work, int count, ref bool needsReload)
    {
        try
        {
            if (needsReload)
            {
                Reload(work);
                needsReload = false;
            }

            if (_refs!.Remaining < (count * 4) + 1024)
            {
                Reserve(work.Meta);
            }

            return true;
        }
        catch (Exception ex)
        {
            LogCommitFailed(_logger, ex, count);
            needsReload = true;
            return false;
        }
    }

    private bool Execute(UnitOfWork work, WorkItem item)
    {
        try
        {
            item.Execute(work);
            work.EndCommand();
            return true;
        }
        catch (Exception ex)
        {
            // A bug in one command must not stop the writer; its partial effects are dropped by a reload.
            work.AbandonCommand();
            LogWorkFailed(_logger, ex);
            return false;
        }
    }

    private bool Commit(UnitOfWork work, int count)
    {
        try
        {
            _store.Commit(work.Seal());
        }
        catch (Exception ex)
        {
            LogCommitFailed(_logger, ex, count);
            return false;
        }

        work.Committed();
        return true;
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

    private void Reload(UnitOfWork work)
    {
        var state = _store.Load();
        work.Reload(Ledger(state), state.Meta);
        _directory.Load(state.Devices);
        LogReloaded(_logger);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Storage {Path} loaded: {Devices} devices, {Instructions} instructions, {OpenOrders} open orders")]
    private static partial void LogStarted(ILogger logger, string path, int devices, int instructions, int openOrders);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Commit of {Count} commands failed; all get 503 and nothing was recorded")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "A command failed while being decided")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Moving the storage log into the data file failed; it is retried after the next batch")]
    private static partial void LogCompactFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "State reloaded from storage after a failure")]
    private static partial void LogReloaded(ILogger logger);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Command queue full or writer not started; answering 503")]
    private static partial void LogQueueFull(ILogger logger);

    private abstract class WorkItem
    {
        public abstract void Execute(UnitOfWork work);

        public abstract void Complete(RefAllocator refs);

        public abstract void Fail(RefAllocator refs);
    }

    private sealed class WorkItem<TResult>(IWriterCommand<TResult> command) : WorkItem
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _executed;
        private TResult? _result;

        public Task<TResult> Task => _completion.Task;

        public override void Execute(UnitOfWork work)
        {
            _result = command.Execute(work);
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

        public override void Fail(RefAllocator refs) => _completion.TrySetResult(command.Unavailable(refs.Next()));
    }
}
