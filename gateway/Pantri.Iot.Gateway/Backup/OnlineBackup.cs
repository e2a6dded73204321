using System.Diagnostics;
using System.IO.Compression;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Backup;

/// <summary>A consistent copy of the data directory while the gateway runs, as a zip archive that unpacks into a data
/// directory a gateway can start from (the restore). The store is copied by the single writer between two commits
/// (<see cref="BackupCommand"/>); the other files of the data directory (the <c>User_Auth</c> signing key, the demo
/// household, the TLS CA and certificates) are copied after it — the writer never changes them. One backup at a
/// time.</summary>
public sealed partial class OnlineBackup(CommandWriter writer, IGatewayStore store, DataDirectoryLock dataDirectory, IOptions<GatewayOptions> options, TimeProvider time, ILogger<OnlineBackup> logger) : IDisposable
{
    /// <summary>Prefix of the staging folders and archives in the data directory (never part of a backup; a gateway
    /// killed during a backup may leave one behind, safe to delete).</summary>
    public const string StagingPrefix = ".backup-";

    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Makes a backup; the caller reads <see cref="Archive.Open"/> and disposes it (which deletes the
    /// archive and lets the next backup start). Null when another backup is running.</summary>
    /// <exception cref="OnlineBackupException">The copy failed (storage down, the disk full); nothing is left behind.</exception>
    public async Task<Archive?> CreateAsync(CancellationToken cancellationToken)
    {
        if (!await _one.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var staging = Path.Combine(dataDirectory.Directory, StagingPrefix + Guid.NewGuid().ToString("N"));
        var zip = staging + ".zip";
        try
        {
            Directory.CreateDirectory(staging);
            var paused = Stopwatch.StartNew();
            var outcome = await writer.SubmitAsync(new BackupCommand(store, staging), cancellationToken).ConfigureAwait(false);
            paused.Stop();
            if (outcome.Error is not null)
            {
                throw new OnlineBackupException(outcome.Error);
            }

            var files = CopyOtherFiles(staging);
            await Task.Run(() => Zip(staging, zip), cancellationToken).ConfigureAwait(false);
            var bytes = new FileInfo(zip).Length;
            LogWritten(logger, files + Directory.GetFiles(staging, "*.db").Length, bytes, paused.Elapsed.TotalMilliseconds);
            return new Archive(zip, $"pantri-backup-{time.GetUtcNow():yyyyMMdd-HHmmss}Z.zip", _one);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OnlineBackupException)
        {
            LogFailed(logger, ex.Message);
            TryDelete(zip);
            _one.Release();
            throw ex as OnlineBackupException ?? new OnlineBackupException(ex.Message, ex);
        }
        catch
        {
            TryDelete(zip);
            _one.Release();
            throw;
        }
        finally
        {
            try
            {
                Directory.Delete(staging, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _one.Dispose();

    /// <summary>Everything else in the data directory except the store's own files, the lock and pid, staging folders
    /// and half-written files, with their Unix modes (keys stay owner-only).</summary>
    private int CopyOtherFiles(string staging)
    {
        var root = dataDirectory.Directory;
        var database = Path.GetFileName(options.Value.DatabasePath);
        // The journal is the store's too (the copy holds everything in it), and it and the key log run ahead of the copy:
        // a journal beside the copy would replay commands acknowledged after the backup into it.
        string[] skipped =
        [
            database, Path.GetFileName(LiteDbGatewayStore.LogPathOf(options.Value.DatabasePath)),
            Path.GetFileName(BatchJournal.PathOf(options.Value.DatabasePath, 0)), Path.GetFileName(BatchJournal.PathOf(options.Value.DatabasePath, 1)),
            IdempotencyIndex.LogFileName, IdempotencyIndex.LogFileName + ".tmp", DataDirectoryLock.FileName, DataDirectoryLock.PidFileName,
        ];
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith(StagingPrefix, StringComparison.Ordinal) || skipped.Contains(relative, StringComparer.Ordinal) || relative.EndsWith(".new", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(staging, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }

            count++;
        }

        return count;
    }

    /// <summary>Zips the staging folder into a file only its owner can read (it holds keys).</summary>
    private static void Zip(string staging, string zip)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(zip, options);
        ZipFile.CreateFromDirectory(staging, file, CompressionLevel.Fastest, includeBaseDirectory: false);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = 5210, Level = LogLevel.Information, Message = "Online backup written: {Files} files, {Bytes} bytes zipped; the writer paused {PauseMs:F0} ms for the store's copy")]
    private static partial void LogWritten(ILogger logger, int files, long bytes, double pauseMs);

    [LoggerMessage(EventId = 5211, Level = LogLevel.Warning, Message = "Online backup failed: {Reason}; nothing was kept")]
    private static partial void LogFailed(ILogger logger, string reason);

    /// <summary>A finished backup archive: read it, then dispose it.</summary>
    public sealed class Archive : IAsyncDisposable
    {
        private readonly string _path;
        private SemaphoreSlim? _one;

        internal Archive(string path, string fileName, SemaphoreSlim one)
        {
            _path = path;
            FileName = fileName;
            _one = one;
        }

        /// <summary>A name for the download (<c>pantri-backup-20261128-091500Z.zip</c>).</summary>
        public string FileName { get; }

        /// <summary>Size in bytes.</summary>
        public long Length => new FileInfo(_path).Length;

        /// <summary>Opens the archive for reading.</summary>
        public Stream Open() => new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);

        /// <inheritdoc/>
        public ValueTask DisposeAsync()
        {
            TryDelete(_path);
            Interlocked.Exchange(ref _one, null)?.Release();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>An online backup could not be made; its message says why.</summary>
public sealed class OnlineBackupException : Exception
{
    /// <summary>Creates the failure.</summary>
    public OnlineBackupException()
    {
    }

    /// <summary>Creates the failure with its reason.</summary>
    public OnlineBackupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the failure with its reason and cause.</summary>
    public OnlineBackupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
