using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>Answers "was this idempotency key already processed inside the window?" for the writer: the current
/// batch's keys, then the committed keys held in memory (<see cref="RecentCommandKeys"/>), and storage only for a
/// replay, a hash collision, or a span memory no longer covers. Writer thread only.</summary>
/// <remarks>With a <paramref name="logPath"/>, what memory holds is also kept in that file, appended after every commit
/// (a key log: the coverage, then each committed key's hash, sequence and time), so the next start — after a clean
/// stop, a killed process or a crash — restores the whole window from it instead of reading storage.</remarks>
internal sealed class IdempotencyIndex(IGatewayStore store, TimeSpan window, int startupKeyLimit = IdempotencyIndex.StartupKeyLimit, string? logPath = null) : IDisposable
{
    /// <summary>Most idempotency keys held in memory (≈ 60 bytes each).</summary>
    internal const int RecentKeyCapacity = 1_000_000;

    /// <summary>The key log's name in the data directory.</summary>
    internal const string LogFileName = "idempotency-window.bin";

    private const uint LogMagic = 0x314C_4B50; // "PKL1"
    private const int LogHeaderSize = 12;
    private readonly Dictionary<string, CommandRecord> _pending = new(StringComparer.Ordinal);
    private readonly RecentCommandKeys _recent = new(RecentKeyCapacity);
    private readonly List<(string Key, long Sequence, DateTimeOffset At)> _unlogged = [];
    private FileStream? _log;
    private long _logged;

    /// <summary>Most keys read from storage at start (≈ 1 s): reading the whole window cost 11.6 s and an 843 MB heap
    /// with 1.1 million commands in it.</summary>
    internal const int StartupKeyLimit = 100_000;

    /// <summary>Fills memory with the window's committed keys: from the key log when it holds the newest command with a
    /// key in storage (checked against storage), otherwise from storage, newest first, up to
    /// <see cref="StartupKeyLimit"/> (or the limit given) — a window holding more is answered from storage (the key-hash
    /// index) for commands older than the newest loaded, until the keys committed since cover the window, so start-up
    /// time and memory do not grow with history. Then the key log is written anew from memory and kept appended.
    /// Returns how many keys the key log gave, or null when it was not used.</summary>
    public int? Load(DateTimeOffset now)
    {
        var since = now - window;
        CloseLog();
        var restored = logPath is not null ? TryRestore(logPath, since) : null;
        if (restored is null)
        {
            var keys = store.RecentCommandKeys(since, startupKeyLimit);
            _recent.Start(since, keys, startupKeyLimit);
        }

        StartLog();
        return restored;
    }

    /// <summary>Writes the key log anew (compacted) and closes it: called when the writer has stopped.</summary>
    public void Dispose()
    {
        if (_log is not null)
        {
            StartLog();
        }

        CloseLog();
    }

    // The key log is valid only if it holds the newest command with a key in storage: it is appended in commit order, so
    // holding that one means holding every one before it. A log that lost its end (a power cut: it is not flushed per
    // batch, the journal is) or belongs to other data (a restored backup) fails the check and storage is read instead.
    // (A clock set back across the restart could hide such a command behind an older one's time; it would then be
    // answered from storage only if its key was older than the log's coverage.)
    private int? TryRestore(string path, DateTimeOffset since)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
            {
                using var reader = new BinaryReader(file);
                if (file.Length < LogHeaderSize || reader.ReadUInt32() != LogMagic)
                {
                    return null;
                }

                _recent.ReadFrom(reader, file.Length);
            }

            var newest = store.RecentCommandKeys(DateTimeOffset.MinValue, 1);
            var holdsNewest = newest.Count == 0
                ? _recent.Count == 0
                : _recent.Find(newest[0].Key, newest[0].At, out var sequence) == RecentCommandKeys.Answer.Candidate && sequence == newest[0].Sequence;
            if (!holdsNewest)
            {
                return null;
            }

            _recent.Trim(since);
            return _recent.Count;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Writes what memory holds to a new file (flushed, renamed into place) and keeps it open for appending. A key log
    // that cannot be written is removed and not used until the next Load: one with a gap could pass the check at the
    // next start while missing keys.
    private void StartLog()
    {
        CloseLog();
        if (logPath is null)
        {
            return;
        }

        try
        {
            var temp = logPath + ".tmp";
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using var writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true);
                writer.Write(LogMagic);
                _logged = _recent.WriteTo(writer);
                writer.Flush();
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, logPath, overwrite: true);
            _log = new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DropLog();
        }
    }

    // Appends the keys committed since the last call, in one write; past twice what memory holds, the log is rewritten.
    private void AppendLog()
    {
        if (_log is null || _unlogged.Count == 0)
        {
            _unlogged.Clear();
            return;
        }

        var bytes = new byte[_unlogged.Count * RecentCommandKeys.EntrySize];
        for (var i = 0; i < _unlogged.Count; i++)
        {
            var (key, sequence, at) = _unlogged[i];
            RecentCommandKeys.WriteEntry(bytes.AsSpan(i * RecentCommandKeys.EntrySize), key, sequence, at);
        }

        _unlogged.Clear();
        try
        {
            _log.Write(bytes);
            _logged += bytes.Length / RecentCommandKeys.EntrySize;
        }
        catch (IOException)
        {
            DropLog();
            return;
        }

        if (_logged > (2L * _recent.Count) + 100_000)
        {
            StartLog();
        }
    }

    private void DropLog()
    {
        CloseLog();
        try
        {
            File.Delete(logPath!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // It stays behind; the next start checks it against storage.
        }
    }

    private void CloseLog()
    {
        _log?.Dispose();
        _log = null;
    }

    /// <summary>Every committed key at or after this time is held in memory.</summary>
    internal DateTimeOffset CoveredSince => _recent.CoveredSince;

    /// <summary>The command processed under <paramref name="key"/> inside the window ending at <paramref name="now"/>.</summary>
    public CommandRecord? Find(string key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var since = now - window;
        var found = _pending.GetValueOrDefault(key) ?? FindCommitted(key, since);
        return found is not null && found.At >= since ? found : null;
    }

    /// <summary>A command of the current batch: later commands of the batch must see its key.</summary>
    public void Pending(CommandRecord record)
    {
        if (record.IdempotencyKey is { } key)
        {
            _pending[key] = record;
        }
    }

    /// <summary>Adds keys another gateway instance committed (a shared store), so their resends are replayed here.</summary>
    public void Merge(IEnumerable<(string Key, long Sequence, DateTimeOffset At)> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (key, sequence, at) in keys)
        {
            _recent.Add(key, sequence, at);
            _unlogged.Add((key, sequence, at));
        }

        AppendLog();
    }

    /// <summary>Starts a batch.</summary>
    public void BeginBatch() => _pending.Clear();

    /// <summary>The batch is committed: its keys now exist in storage. Keys that left the window are forgotten.</summary>
    public void Committed(IEnumerable<CommandRecord> records, DateTimeOffset now)
    {
        foreach (var record in records)
        {
            if (record.IdempotencyKey is { } key)
            {
                _recent.Add(key, record.Sequence, record.At);
                _unlogged.Add((key, record.Sequence, record.At));
            }
        }

        _recent.Trim(now - window);
        _pending.Clear();
        AppendLog();
    }

    private CommandRecord? FindCommitted(string key, DateTimeOffset since)
    {
        switch (_recent.Find(key, since, out var sequence))
        {
            case RecentCommandKeys.Answer.None:
                return null;
            case RecentCommandKeys.Answer.Candidate:
                var candidate = store.FindCommandBySequence(sequence);
                return candidate?.IdempotencyKey == key ? candidate : store.FindCommandByKey(key);
            default:
                return store.FindCommandByKey(key);
        }
    }
}
