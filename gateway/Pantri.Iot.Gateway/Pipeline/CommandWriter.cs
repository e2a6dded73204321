using System.Threading.Channels;
using Pantri.Iot.Gateway.Telemetry;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Events;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>The single writer. Every command that reads or changes household state runs here, one at a time on
/// one thread, so races between devices cannot make two orders. Commands are grouped: a batch is decided in
/// memory, committed to LiteDB in one transaction, and only then are its callers released to ack (group commit:
/// LiteDB's bulk speed with ack-after-commit). If the commit fails, every command of the batch gets "unavailable"
/// and storage counts as down: commands get "unavailable" at once, without touching it, while the writer reopens the
/// store, reloads the in-memory state from it and proves it takes a write again, retrying with a doubling back-off
/// (<see cref="GatewayOptions.StorageRetryDelay"/> up to <see cref="GatewayOptions.StorageRetryMaxDelay"/>) until it
/// does — so nothing unrecorded is ever acted on, and a disk that has space again is used again without a restart.</summary>
public sealed partial class CommandWriter : IHostedService, IDisposable
{
    private readonly IGatewayStore _store;
    private readonly TimeProvider _time;
    private readonly GatewayOptions _options;
    private readonly OutboundPublisher _outbound;
    private readonly HouseholdEvents? _events;
    private readonly DeviceDirectory _directory;
    private readonly IdentityDirectory _identities;
    private readonly ILogger<CommandWriter> _logger;
    private readonly GatewayMetrics _metrics;
    private readonly Channel<WorkItem> _queue;
    private Thread? _thread;
    private UnitOfWork? _work;
    private RefAllocator? _refs;
    private IdempotencyIndex? _idempotency;

    // Storage outage, writer thread only: while down, batches are refused without touching storage until the next
    // recovery attempt is due.
    private bool _storageDown;
    private TimeSpan _retryDelay;
    private DateTimeOffset _retryAt;
    private DateTimeOffset _downSince;
    private int _recoveryAttempts;
    private bool _recovered;

    // Read by the health checks on other threads.
    private volatile bool _storageAvailable = true;
    private volatile string? _storageError;
    private long _busySince;

    /// <summary>Creates the writer; <see cref="StartAsync"/> loads the state.</summary>
    public CommandWriter(IGatewayStore store, TimeProvider time, IOptions<GatewayOptions> options, OutboundPublisher outbound, DeviceDirectory directory, IdentityDirectory identities, GatewayMetrics metrics, ILogger<CommandWriter> logger, HouseholdEvents? events = null)
    {
        _events = events;
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _time = time;
        _options = options.Value;
        _outbound = outbound;
        _directory = directory;
        _identities = identities;
        _logger = logger;
        _metrics = metrics;
        // Synchronous continuations: the writer thread blocks in WaitForWork, and otherwise waking it took a thread-pool
        // work item (busy with MQTT on two cores) after every enqueue. Commands are only ever enqueued with TryWrite, so
        // no producer's continuation can end up running on the writer thread.
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(_options.MaxQueuedCommands) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = true });
        metrics.ObserveQueueDepth(() => _queue.Reader.Count);
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

    /// <summary>What the health checks report about the writer and its storage; safe to read from any thread.</summary>
    public WriterHealth Health
    {
        get
        {
            var busySince = Interlocked.Read(ref _busySince);
            return new WriterHealth(
                _thread?.IsAlive == true,
                _storageAvailable,
                busySince == 0 ? TimeSpan.Zero : _time.GetElapsedTime(busySince),
                _storageError);
        }
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        StoredState state;
        var idempotency = new IdempotencyIndex(_store, _options.IdempotencyWindow, logPath: KeyLogPath);
        _idempotency = idempotency;
        try
        {
            // Everything the writer decides with is read here, so damage anywhere in it refuses the start.
            state = _store.Load();
            if (idempotency.Load(_time.GetUtcNow()) is { } restored)
            {
                LogKeysRestored(_logger, restored);
            }
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
        _identities.Load(state.Households, state.Users);
        _work = new UnitOfWork(_refs, new TokenBucketLimiter(_options.CommandsPerSecond, _options.CommandBurst), idempotency, Ledger(state), meta);
        if (_events is { } events)
        {
            _work.Listening = events.IsListening;
            events.Webhooks?.Load(state.Safeguards);
        }
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "pantri-writer" };
        _thread.Start();
        LogStarted(_logger, _options.DatabasePath, state.Devices.Count, state.Instructions.Count, state.OpenOrders.Count);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_thread?.Join(TimeSpan.FromSeconds(10)) == true)
        {
            // The writer has stopped: nothing commits any more, so the key log can be compacted and closed.
            _idempotency?.Dispose();
        }

        return Task.CompletedTask;
    }

    // Where the idempotency keys are kept across a restart, so the next start need not read the window.
    private string KeyLogPath => Path.Combine(_options.DataDirectory, IdempotencyIndex.LogFileName);

    /// <inheritdoc/>
    public void Dispose() => _queue.Writer.TryComplete();

    private static ReplenishmentLedger Ledger(StoredState state) => new(state.Households, state.Users, state.Devices, state.Instructions, state.OpenOrders, state.PairingCodes, state.Safeguards);

    private void Reserve(GatewayMeta meta)
    {
        // Another instance sharing the store reserved past this one's block: the next block starts after its.
        if (meta.ReservedUpTo > _refs!.ReservedUpTo)
        {
            _refs.SkipTo(meta.ReservedUpTo);
        }

        var upTo = _refs.NextReservation();
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
            _identities.Apply(work.IdentityChanges);
            _outbound.Enqueue(work.Outbound);
            _events?.Webhooks?.Apply(work.SafeguardChanges);
            _events?.Publish(work.Events);
            foreach (var item in items)
            {
                item.Complete(_refs!);
            }
        }
    }

    // Before a batch: recover storage after an outage (or refuse the batch at once while it is down), reload after an
    // earlier failure, and keep the whole batch inside the stored ref reservation (each command may take a few refs).
    private bool Prepare(UnitOfWork work, int count, ref bool needsReload)
    {
        Interlocked.Exchange(ref _busySince, _time.GetTimestamp());
        if (_storageDown && !TryRecover(work))
        {
            return false;
        }

        if (_recovered)
        {
            // The recovery reloaded everything already.
            _recovered = false;
            needsReload = false;
        }

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

            // A store shared with other instances: take its batch lock (after the reservation, which commits on its
            // own), and what the others wrote meanwhile.
            if (_store is ISharedGatewayStore shared && shared.BeginBatch() is { } changes)
            {
                TakeIn(work, changes);
            }

            return true;
        }
        catch (StoreConflictException ex)
        {
            (_store as ISharedGatewayStore)?.ReleaseBatch();
            LogConflict(_logger, ex.Message, count);
            needsReload = true;
            return false;
        }
        catch (Exception ex)
        {
            (_store as ISharedGatewayStore)?.ReleaseBatch();
            StorageFailed(ex, count);
            needsReload = true;
            return false;
        }
    }

    // One command, isolated from the rest of its batch: if it throws, it alone fails (IWriterCommand.Failed), what it
    // changed is undone, and the batch commits without it. Only when the undo itself fails is the state reloaded
    // (returns false): the batch is then refused whole.
    private bool Execute(UnitOfWork work, WorkItem item)
    {
        work.BeginCommand();
        try
        {
            item.Execute(work);
            work.EndCommand();
            return true;
        }
        catch (Exception ex)
        {
            item.Crashed();
            LogWorkFailed(_logger, ex, item.CommandName);
            return Abandon(work);
        }
    }

    private bool Abandon(UnitOfWork work)
    {
        try
        {
            work.AbandonCommand();
            return true;
        }
        catch (Exception ex)
        {
            LogRollbackFailed(_logger, ex);
            return false;
        }
    }

    private bool Commit(UnitOfWork work, int count)
    {
        var started = _time.GetTimestamp();
        try
        {
            _store.Commit(work.Seal());
        }
        catch (StoreConflictException ex)
        {
            // Not an outage: another instance got there first. The batch gets 503 (nothing stored) and is reloaded.
            LogConflict(_logger, ex.Message, count);
            return false;
        }
        catch (Exception ex)
        {
            StorageFailed(ex, count);
            return false;
        }

        work.Committed();
        _metrics.BatchCommitted(count, _time.GetElapsedTime(started));
        return true;
    }

    // The batch failed on storage: from now on batches get 503 without touching it until a recovery attempt succeeds.
    private void StorageFailed(Exception exception, int count)
    {
        LogCommitFailed(_logger, exception, count);
        _storageDown = true;
        _storageAvailable = false;
        _storageError = exception.Message;
        _downSince = _time.GetUtcNow();
        _recoveryAttempts = 0;
        _retryDelay = _options.StorageRetryDelay;
        _retryAt = _downSince + _retryDelay;
        LogStorageDown(_logger, _retryDelay);
    }

    // Reopens the store, reloads everything the writer decides with, and proves storage takes a write again (storing
    // a new ref reservation) — when the attempt is due; otherwise, or when it fails, storage stays down.
    private bool TryRecover(UnitOfWork work)
    {
        var now = _time.GetUtcNow();
        if (now < _retryAt)
        {
            return false;
        }

        _recoveryAttempts++;
        try
        {
            _store.Reopen();
            Reload(work);
            _idempotency!.Load(now);
            Reserve(work.Meta);
        }
        catch (Exception ex)
        {
            _storageError = ex.Message;
            _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, _options.StorageRetryMaxDelay.Ticks));
            _retryAt = _time.GetUtcNow() + _retryDelay;
            LogRecoveryFailed(_logger, _recoveryAttempts, ex.Message, _retryDelay);
            return false;
        }

        _storageDown = false;
        _recovered = true;
        _storageError = null;
        _storageAvailable = true;
        LogRecovered(_logger, _time.GetUtcNow() - _downSince, _recoveryAttempts);
        return true;
    }

    private bool WaitForWork(ChannelReader<WorkItem> reader)
    {
        Interlocked.Exchange(ref _busySince, 0);
        while (_storageDown)
        {
            // Wake up for the next recovery attempt even when no command comes, so readiness returns by itself.
            var untilRetry = _retryAt - _time.GetUtcNow();
            if (untilRetry <= TimeSpan.Zero)
            {
                Interlocked.Exchange(ref _busySince, _time.GetTimestamp());
                TryRecover(_work!);
                Interlocked.Exchange(ref _busySince, 0);
                continue;
            }

            using var timeout = new CancellationTokenSource(untilRetry, _time);
            try
            {
                return reader.WaitToReadAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
            }
        }

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

    // Between batches: entities and RequestIds other gateway instances stored, so this batch decides on them too.
    private void TakeIn(UnitOfWork work, SharedChanges changes)
    {
        if (changes.SetupChanged)
        {
            // Households, users, pairing codes or deletions: rare, and a deleted row cannot be taken in.
            Reload(work);
            return;
        }

        work.Ledger.Refresh(changes.Devices, changes.Instructions, changes.Orders, changes.Safeguards);
        if (changes.Safeguards is { Count: > 0 } safeguards)
        {
            _events?.Webhooks?.Apply(safeguards);
        }

        _directory.Apply(changes.Devices);
        _idempotency!.Merge(changes.CommandKeys);
        work.Meta.ReservedUpTo = Math.Max(work.Meta.ReservedUpTo, changes.ReservedUpTo);
    }

    private void Reload(UnitOfWork work)
    {
        var state = _store.Load();
        work.Reload(Ledger(state), state.Meta);
        _directory.Load(state.Devices);
        _identities.Load(state.Households, state.Users);
        if (_store is ISharedGatewayStore)
        {
            // Other instances' RequestIds, so a resend that reaches this instance is replayed, not redone.
            _idempotency!.Load(_time.GetUtcNow());
        }

        _events?.Webhooks?.Load(state.Safeguards);
        LogReloaded(_logger);
    }

    [LoggerMessage(EventId = 5430, Level = LogLevel.Warning, Message = "Batch of {Count} commands refused by the shared store ({Reason}); they get 503 and the state is reloaded")]
    private static partial void LogConflict(ILogger logger, string reason, int count);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Storage {Path} loaded: {Devices} devices, {Instructions} instructions, {OpenOrders} open orders")]
    private static partial void LogStarted(ILogger logger, string path, int devices, int instructions, int openOrders);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Commit of {Count} commands failed; all get 503 and nothing was recorded")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Command {Command} failed while being decided; its changes were undone, it was answered as an internal error and the rest of its batch goes on")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception, string command);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Critical, Message = "The changes of a failed command could not be undone; its batch is refused and the state is reloaded")]
    private static partial void LogRollbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "State reloaded from storage after a failure")]
    private static partial void LogReloaded(ILogger logger);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Command queue full or writer not started; answering 503")]
    private static partial void LogQueueFull(ILogger logger);

    [LoggerMessage(EventId = 3350, Level = LogLevel.Information, Message = "Idempotency keys restored from the key log: {Keys} keys")]
    private static partial void LogKeysRestored(ILogger logger, int keys);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Storage unavailable: commands get 503 until it recovers; reopening it in {Delay}")]
    private static partial void LogStorageDown(ILogger logger, TimeSpan delay);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "Storage recovery attempt {Attempt} failed ({Reason}); next in {Delay}")]
    private static partial void LogRecoveryFailed(ILogger logger, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 3305, Level = LogLevel.Warning, Message = "Storage recovered after {Outage} ({Attempts} attempts): reopened, state reloaded, commits accepted again")]
    private static partial void LogRecovered(ILogger logger, TimeSpan outage, int attempts);

    private abstract class WorkItem
    {
        public abstract string CommandName { get; }

        public abstract void Execute(UnitOfWork work);

        /// <summary>Deciding the command threw: it completes with its <see cref="IWriterCommand{T}.Failed"/> result.</summary>
        public abstract void Crashed();

        public abstract void Complete(RefAllocator refs);

        public abstract void Fail(RefAllocator refs);
    }

    private sealed class WorkItem<TResult>(IWriterCommand<TResult> command) : WorkItem
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _executed;
        private bool _crashed;
        private TResult? _result;

        public Task<TResult> Task => _completion.Task;

        public override string CommandName => command.GetType().Name;

        public override void Execute(UnitOfWork work)
        {
            work.AuditAs(command as IAuditedCommand);
            _result = command.Execute(work);
            _executed = true;
        }

        public override void Crashed() => _crashed = true;

        public override void Complete(RefAllocator refs)
        {
            if (_crashed)
            {
                _completion.TrySetResult(command.Failed(refs.Next()));
            }
            else if (_executed)
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
