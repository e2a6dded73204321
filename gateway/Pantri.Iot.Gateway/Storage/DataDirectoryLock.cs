using System.Globalization;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>One gateway per data directory: <c>{DataDirectory}/gateway.lock</c> is held open with
/// <see cref="FileShare.None"/> (an exclusive <c>flock</c> on Linux) from before the store is opened until the process
/// ends, and the holder's pid is written next to it in <c>gateway.pid</c>. A second gateway — another process or this
/// one — fails to start with a <see cref="GatewayStartupException"/> naming the directory and that pid. The kernel
/// releases the lock when the process dies, however it dies, so a <c>kill -9</c> never leaves a stale lock behind.</summary>
/// <remarks>Registered as the first hosted service so that it is created before anything that opens the store; the store
/// factory asks for it as well. The lock file is never deleted: a second gateway must find the same file, not a new one.</remarks>
public sealed partial class DataDirectoryLock : IHostedService, IDisposable
{
    /// <summary>Name of the lock file in the data directory.</summary>
    public const string FileName = "gateway.lock";

    /// <summary>Name of the file that records the pid of the gateway holding the lock.</summary>
    public const string PidFileName = "gateway.pid";

    private readonly FileStream _lock;

    /// <summary>Creates the data directory if needed and takes its lock.</summary>
    /// <exception cref="GatewayStartupException">Another gateway holds the directory, or the lock file cannot be created.</exception>
    public DataDirectoryLock(IOptions<GatewayOptions> options, ILogger<DataDirectoryLock> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory = Path.GetFullPath(options.Value.DataDirectory);
        var lockPath = Path.Combine(Directory, FileName);
        var pidPath = Path.Combine(Directory, PidFileName);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (File.Exists(lockPath))
        {
            throw new GatewayStartupException(
                $"The data directory {Directory} is in use by another gateway{Holder(pidPath)}: it holds {lockPath}. " +
                "Stop that gateway first, or give this one another Pantri:DataDirectory.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayStartupException($"The data directory {Directory} cannot be locked: {lockPath} could not be created ({ex.Message}).", ex);
        }

        try
        {
            File.WriteAllText(pidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only informative: the lock is what keeps a second gateway out.
            LogPidNotWritten(logger, ex, pidPath);
        }
    }

    /// <summary>The locked data directory, as a full path.</summary>
    public string Directory { get; }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Releases the lock (when the host is disposed, after the store is closed).</summary>
    public void Dispose() => _lock.Dispose();

    // The pid file is written by the holder right after it took the lock; reading it is best effort.
    private static string Holder(string pidPath)
    {
        try
        {
            var text = File.ReadAllText(pidPath).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? $" (pid {pid})" : string.Empty;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Could not record this gateway's pid in {Path}")]
    private static partial void LogPidNotWritten(ILogger logger, Exception exception, string path);
}
