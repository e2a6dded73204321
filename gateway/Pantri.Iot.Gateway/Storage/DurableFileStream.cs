using System.Runtime.InteropServices;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>A file whose <see cref="Flush"/> reaches the disk (fsync), unbuffered in the process. LiteDB asks for a
/// flush to disk with <c>FileStream.Flush(true)</c> only when it owns the <see cref="FileStream"/>; over a stream it
/// calls plain <see cref="Stream.Flush()"/> through its own wrapper, which on a bare <see cref="FileStream"/> would
/// only empty .NET's buffer. Handing LiteDB this stream keeps its checkpoint's flush a real one, and gives the store
/// one call that makes a commit durable.</summary>
public sealed partial class DurableFileStream : Stream
{
    private readonly FileStream _file;

    /// <summary>Opens (or creates) <paramref name="path"/> for reading and writing.</summary>
    public DurableFileStream(string path) =>
        // Shared like LiteDB's own direct mode: the data directory lock, not the file share, keeps a second gateway out.
        _file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0, FileOptions.RandomAccess);

    /// <summary>Opens <paramref name="path"/>; the signature LiteDbGatewayStore takes for its files.</summary>
    public static Stream Open(string path) => new DurableFileStream(path);

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override long Length => _file.Length;

    /// <inheritdoc/>
    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    /// <summary>Writes everything written so far to the disk, and the file's size with it. On Linux this is
    /// <c>fdatasync</c>: it skips the inode's timestamps, so a file that did not grow is flushed without a file-system
    /// journal commit (which would also wait for every other file's pending data); elsewhere <c>fsync</c>.</summary>
    public override void Flush()
    {
        if (!OperatingSystem.IsLinux())
        {
            _file.Flush(flushToDisk: true);
            return;
        }

        var handle = _file.SafeFileHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (NativeMethods.FDataSync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException("fdatasync failed: " + Marshal.GetLastPInvokeErrorMessage(), Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer) => _file.Read(buffer);

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);

    /// <inheritdoc/>
    public override void SetLength(long value) => _file.SetLength(value);

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer) => _file.Write(buffer);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
        internal static partial int FDataSync(int fd);
    }
}
