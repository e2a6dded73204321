namespace Pantri.Iot.Testing;

/// <summary>A disk that can fill up: real files whose writes fail with "No space left on device" while <see cref="Full"/>
/// is set, as a full file system fails them. Hand <see cref="Open"/> to <c>LiteDbGatewayStore</c> and LiteDB itself meets
/// the failure — the state a real disk-full episode leaves it in, which a <see cref="FailingStore"/> never reaches.</summary>
/// <example><code>
/// var disk = new FullDisk();
/// configure: b => b.Services.Replace(ServiceDescriptor.Singleton&lt;IGatewayStore&gt;(_ => new LiteDbGatewayStore(path, disk.Open)))
/// disk.Full = true;  // commits fail inside LiteDB
/// </code></example>
public sealed class FullDisk
{
    /// <summary>The message of the <see cref="IOException"/> a write on a full disk throws.</summary>
    public const string Failure = "No space left on device";

    private volatile bool _full;

    /// <summary>While true, every write, flush and growth of a file opened here fails.</summary>
    public bool Full
    {
        get => _full;
        set => _full = value;
    }

    /// <summary>How many writes failed so far.</summary>
    public int FailedWrites => Volatile.Read(ref _failedWrites);

    private int _failedWrites;

    /// <summary>Opens (or creates) a file on this disk.</summary>
    public Stream Open(string path) => new FileOnDisk(this, new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite));

    private void ThrowIfFull()
    {
        if (_full)
        {
            Interlocked.Increment(ref _failedWrites);
            throw new IOException(Failure);
        }
    }

    private sealed class FileOnDisk(FullDisk disk, FileStream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override void Flush()
        {
            disk.ThrowIfFull();
            inner.Flush();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value)
        {
            if (value > inner.Length)
            {
                disk.ThrowIfFull();
            }

            inner.SetLength(value);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            disk.ThrowIfFull();
            inner.Write(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
