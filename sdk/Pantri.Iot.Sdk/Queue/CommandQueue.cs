using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Sdk.Queue;

/// <summary>The commands waiting for their acknowledgement, in the order they were issued, kept in a small journal
/// file when a path is given (in memory otherwise).</summary>
/// <remarks>
/// <para>File format (JSON Lines, UTF-8, one record per line, each line written and fsync'd before the call returns):
/// a header <c>{"Op":"format","Version":1,"Seq":n}</c>, then <c>{"Op":"add","Seq":…,"Kind":"trigger",
/// "Instruction_Ref":…,"Value":…,"RequestId":"…","At":"…"}</c> for each queued command and <c>{"Op":"done","Seq":…}</c>
/// when one was acknowledged. Pending = adds without a done, in Seq order.</para>
/// <para>Crash safety: a record counts only once its line ends with a newline, so a write torn by a crash or power cut
/// is ignored (and cut off) at the next open; an unreadable line is skipped and logged. A lost <c>done</c> only means
/// the command is sent again with the same RequestId, which the gateway answers by replaying the first ack.</para>
/// <para>Size: when the last pending command is acknowledged the file is truncated back to its header; when done
/// records pile up behind a long backlog, the pending commands are rewritten to a temporary file that replaces the
/// journal by an atomic rename, followed by an fsync of the directory.</para>
/// <para>One process at a time: <c>{path}.lock</c> is held open exclusively while the queue is open.</para>
/// </remarks>
internal sealed class CommandQueue : IDisposable
{
    /// <summary>The journal format this code writes; a newer one is refused rather than misread.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly Lock _lock = new();
    private readonly List<PantriCommand> _pending = [];
    private readonly int _capacity;
    private readonly string? _path;
    private readonly FileStream? _lockFile;
    private FileStream? _journal;
    private long _nextSequence = 1;
    private int _doneRecords;
    private TaskCompletionSource _changed = NewSignal();
    private bool _disposed;

    private CommandQueue(string? path, int capacity, FileStream? lockFile)
    {
        _path = path;
        _capacity = capacity;
        _lockFile = lockFile;
    }

    /// <summary>The journal's full path, or null for an in-memory queue.</summary>
    public string? Path => _path;

    /// <summary>Commands waiting for their ack.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Opens (or creates) the queue at <paramref name="path"/>, or an in-memory queue when it is null.</summary>
    /// <exception cref="IOException">Another process holds the queue, or the file cannot be written.</exception>
    /// <exception cref="InvalidDataException">The file was written by a newer format.</exception>
    public static CommandQueue Open(string? path, int capacity, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (path is null)
        {
            return new CommandQueue(null, capacity, null);
        }

        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new IOException($"The command queue {full} is in use by another PantriDeviceClient (its .lock file is held).", exception);
        }

        var queue = new CommandQueue(full, capacity, lockFile);
        try
        {
            queue.Load(directory, logger);
        }
        catch
        {
            queue.Dispose();
            throw;
        }

        return queue;
    }

    /// <summary>Appends a command (on disk before this returns) and wakes the sender.</summary>
    /// <exception cref="PantriQueueFullException">The queue holds <c>capacity</c> commands already.</exception>
    /// <param name="kind">trigger, level or usage.</param>
    /// <param name="instructionRef">The instruction, if named.</param>
    /// <param name="value">Level or units used.</param>
    /// <param name="requestId">The idempotency key.</param>
    /// <param name="at">When it was issued.</param>
    /// <param name="onQueued">Runs once the command is on disk, before any sender can see it.</param>
    public PantriCommand Enqueue(DeviceTopicKind kind, long? instructionRef, double? value, string requestId, DateTimeOffset at, Action<PantriCommand>? onQueued = null)
    {
        TaskCompletionSource signal;
        PantriCommand command;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pending.Count >= _capacity)
            {
                throw new PantriQueueFullException(
                    $"The command queue already holds {_capacity} commands waiting for their ack; this one was not queued.")
                { Capacity = _capacity };
            }

            command = new PantriCommand(_nextSequence, kind, instructionRef, value, requestId, at);
            Append(Record.Add(command));
            _nextSequence++;
            _pending.Add(command);
            onQueued?.Invoke(command);
            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
        return command;
    }

    /// <summary>The oldest pending command, as soon as there is one.</summary>
    public async Task<PantriCommand> WaitForHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_pending.Count > 0)
                {
                    return _pending[0];
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes an acknowledged command (recorded on disk before this returns).</summary>
    public void Complete(long sequence)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var index = _pending.FindIndex(c => c.Sequence == sequence);
            if (index < 0)
            {
                return;
            }

            _pending.RemoveAt(index);
            if (_journal is null)
            {
                return;
            }

            if (_pending.Count == 0)
            {
                // The usual case once the device is online: start the file over, in place.
                _journal.SetLength(0);
                _journal.Position = 0;
                _doneRecords = 0;
                Append(Record.Header(_nextSequence));
            }
            else
            {
                Append(Record.Done(sequence));
                _doneRecords++;
                if (_doneRecords > Math.Max(64, 2 * _pending.Count))
                {
                    Rewrite();
                }
            }
        }
    }

    /// <summary>The pending commands, oldest first.</summary>
    public IReadOnlyList<PantriCommand> Snapshot()
    {
        lock (_lock)
        {
            return _pending.ToArray();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _journal?.Dispose();
            _lockFile?.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Load(string directory, ILogger logger)
    {
        var path = _path!;
        var existed = File.Exists(path);
        var skipped = 0;
        var clean = true;
        if (existed)
        {
            var content = File.ReadAllBytes(path);
            var pending = new SortedDictionary<long, PantriCommand>();
            var span = content.AsSpan();
            var lineNumber = 0;
            while (!span.IsEmpty)
            {
                var end = span.IndexOf((byte)'\n');
                if (end < 0)
                {
                    // A torn last write: never acknowledged to the caller, so nothing is lost by dropping it.
                    skipped += span.Trim((byte)' ').IsEmpty ? 0 : 1;
                    clean = false;
                    break;
                }

                var line = span[..end];
                span = span[(end + 1)..];
                lineNumber++;
                if (line.IsEmpty)
                {
                    continue;
                }

                if (!Apply(line, lineNumber, pending))
                {
                    skipped++;
                    clean = false;
                }
            }

            _pending.AddRange(pending.Values);
            clean &= _doneRecords == 0;
            if (skipped > 0)
            {
                Log.QueueRecordsSkipped(logger, path, skipped);
            }

            if (_pending.Count > 0)
            {
                Log.QueueRestored(logger, path, _pending.Count);
            }
        }

        if (existed && clean)
        {
            _journal = OpenJournal(path);
            _journal.Seek(0, SeekOrigin.End);
            if (_journal.Length == 0)
            {
                Append(Record.Header(_nextSequence));
            }
        }
        else if (existed)
        {
            Rewrite();
        }
        else
        {
            _journal = OpenJournal(path);
            Append(Record.Header(_nextSequence));
            DirectorySync.Flush(directory);
        }
    }

    private bool Apply(ReadOnlySpan<byte> line, int lineNumber, SortedDictionary<long, PantriCommand> pending)
    {
        Record? record;
        try
        {
            record = JsonSerializer.Deserialize(line, QueueJsonContext.Default.Record);
        }
        catch (JsonException)
        {
            return false;
        }

        switch (record)
        {
            case { Op: Record.FormatOp, Version: var version }:
                if (version > FormatVersion)
                {
                    throw new InvalidDataException(
                        $"{_path} was written by a newer Pantri SDK (queue format {version}, line {lineNumber}); this one reads format {FormatVersion}.");
                }

                _nextSequence = Math.Max(_nextSequence, record.Seq ?? 1);
                return true;
            case { Op: Record.AddOp, Seq: { } seq, RequestId: { Length: > 0 } requestId, At: { } at } when TryParseKind(record.Kind, out var kind):
                pending[seq] = new PantriCommand(seq, kind, record.InstructionRef, record.Value, requestId, at);
                _nextSequence = Math.Max(_nextSequence, seq + 1);
                return true;
            case { Op: Record.DoneOp, Seq: { } seq }:
                pending.Remove(seq);
                _nextSequence = Math.Max(_nextSequence, seq + 1);
                _doneRecords++;
                return true;
            default:
                return false;
        }
    }

    private static bool TryParseKind(string? name, out DeviceTopicKind kind)
    {
        foreach (var candidate in (ReadOnlySpan<DeviceTopicKind>)[DeviceTopicKind.Trigger, DeviceTopicKind.Level, DeviceTopicKind.Usage])
        {
            if (string.Equals(name, Topics.Name(candidate), StringComparison.Ordinal))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }

    private static FileStream OpenJournal(string path) =>
        // Unbuffered: every Write reaches the OS at once, and Flush(true) is an fsync of exactly that.
        new(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);

    private void Append(Record record)
    {
        if (_journal is null)
        {
            return;
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, QueueJsonContext.Default.Record);
        var start = _journal.Position;
        try
        {
            _journal.Write(bytes);
            _journal.Write(NewLine);
            _journal.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // A disk-full or I/O error mid-line: cut the partial record off so the next one starts on a clean line.
            TryTruncate(_journal, start);
            throw;
        }
    }

    private static void TryTruncate(FileStream journal, long length)
    {
        try
        {
            journal.SetLength(length);
            journal.Position = length;
        }
        catch (IOException)
        {
            // Nothing more to do here; the torn line is skipped when the queue is next opened.
        }
    }

    /// <summary>Writes header + pending to <c>{path}.tmp</c>, fsyncs it, renames it over the journal and fsyncs the
    /// directory: at every instant either the old or the new file is complete under the journal's name.</summary>
    private void Rewrite()
    {
        var path = _path!;
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 4096))
        {
            Write(file, Record.Header(_nextSequence));
            foreach (var command in _pending)
            {
                Write(file, Record.Add(command));
            }

            file.Flush(flushToDisk: true);
        }

        _journal?.Dispose();
        _journal = null;
        File.Move(temporary, path, overwrite: true);
        DirectorySync.Flush(System.IO.Path.GetDirectoryName(path)!);
        _journal = OpenJournal(path);
        _journal.Seek(0, SeekOrigin.End);
        _doneRecords = 0;

        static void Write(FileStream file, Record record)
        {
            file.Write(JsonSerializer.SerializeToUtf8Bytes(record, QueueJsonContext.Default.Record));
            file.Write(NewLine);
        }
    }

    /// <summary>One line of the journal.</summary>
    internal sealed record Record
    {
        public const string FormatOp = "format";
        public const string AddOp = "add";
        public const string DoneOp = "done";

        public required string Op { get; init; }

        public int? Version { get; init; }

        public long? Seq { get; init; }

        public string? Kind { get; init; }

        [JsonPropertyName(FieldNames.InstructionRef)]
        public long? InstructionRef { get; init; }

        public double? Value { get; init; }

        public string? RequestId { get; init; }

        public DateTimeOffset? At { get; init; }

        public static Record Header(long nextSequence) => new() { Op = FormatOp, Version = FormatVersion, Seq = nextSequence };

        public static Record Add(PantriCommand command) => new()
        {
            Op = AddOp,
            Seq = command.Sequence,
            Kind = Topics.Name(command.Kind),
            InstructionRef = command.InstructionRef,
            Value = command.Value,
            RequestId = command.RequestId,
            At = command.QueuedAt,
        };

        public static Record Done(long sequence) => new() { Op = DoneOp, Seq = sequence };
    }
}

/// <summary>Source-generated serialiser of the journal records.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CommandQueue.Record))]
internal sealed partial class QueueJsonContext : JsonSerializerContext;
