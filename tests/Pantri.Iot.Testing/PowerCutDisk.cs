namespace Pantri.Iot.Testing;

/// <summary>A disk that can lose power: files kept in memory twice, as the process sees them (the OS page cache) and as
/// the platters hold them. A write reaches the platters only when its file is flushed (<see cref="Stream.Flush()"/>
/// here means fsync: it is what LiteDB calls for "flush to disk" on a stream that is not a <see cref="FileStream"/>, and
/// what the gateway's own file stream does). <see cref="Cut"/> returns what a power cut leaves at that moment.</summary>
/// <remarks>The model, after SQLite's crash-test VFS and LazyFS: everything flushed survives; of the writes since, in
/// the order they were issued (over all files), a random prefix survives — possibly none, possibly all — and the last
/// write of that prefix may be torn at a 512-byte sector boundary (its first sectors on disk, the rest as before). Size
/// changes (<see cref="Stream.SetLength"/>) are writes like any other. It does not model a disk that reorders writes
/// or lies about flushes: against those no software helps (see docs/architecture.md, durability).</remarks>
public sealed class PowerCutDisk
{
    /// <summary>The unit a disk writes atomically.</summary>
    public const int SectorSize = 512;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SimulatedFile> _files = new(StringComparer.Ordinal);
    private readonly List<PendingWrite> _pending = [];
    private readonly Random _random;
    private int _flushes;
    private Action? _armed;

    /// <summary>An empty disk whose cuts are drawn from <paramref name="seed"/>.</summary>
    public PowerCutDisk(int seed) => _random = new Random(seed);

    /// <summary>How many flushes to disk were asked for so far.</summary>
    public int Flushes => Volatile.Read(ref _flushes);

    /// <summary>Opens (or creates) a file on this disk.</summary>
    public Stream Open(string path)
    {
        lock (_gate)
        {
            if (!_files.TryGetValue(path, out var file))
            {
                file = new SimulatedFile(path);
                _files.Add(path, file);
            }

            return new FileView(this, file);
        }
    }

    /// <summary>Cuts the power in the middle of the write stream: inside the write that comes after a random number
    /// (1 to <paramref name="withinWrites"/>) of further writes, so the writes of a commit in flight are cut short.
    /// <paramref name="capture"/> runs at that moment, before anything else is written (e.g. to take the acks received so
    /// far: each of them must be in the image).</summary>
    public Task<(T Captured, PowerCutImage Image)> CutDuringWritesAsync<T>(int withinWrites, Func<T> capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var cut = new TaskCompletionSource<(T, PowerCutImage)>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var countdown = _random.Next(1, withinWrites + 1);
            _armed = () =>
            {
                if (--countdown > 0)
                {
                    return;
                }

                _armed = null;
                var captured = capture();
                cut.TrySetResult((captured, Cut()));
            };
        }

        return cut.Task;
    }

    /// <summary>What the disk holds if the power is cut now.</summary>
    public PowerCutImage Cut()
    {
        lock (_gate)
        {
            var files = _files.Values.ToDictionary(f => f.Path, f => Copy(f.Durable), StringComparer.Ordinal);
            var kept = _random.Next(_pending.Count + 1);
            var tornSectors = -1;
            for (var i = 0; i < kept; i++)
            {
                var write = _pending[i];
                var data = write.Data;
                if (i == kept - 1 && data is { Length: > SectorSize } && _random.Next(2) == 0)
                {
                    tornSectors = _random.Next((data.Length + SectorSize - 1) / SectorSize);
                    data = data[..(tornSectors * SectorSize)];
                }

                Apply(files[write.File.Path], write with { Data = data });
            }

            return new PowerCutImage(files.ToDictionary(f => f.Key, f => f.Value.ToArray(), StringComparer.Ordinal), kept, _pending.Count - kept, tornSectors);
        }
    }

    // Expandable, unlike a MemoryStream over an array.
    private static MemoryStream Copy(MemoryStream source)
    {
        var copy = new MemoryStream();
        source.Position = 0;
        source.CopyTo(copy);
        return copy;
    }

    private static void Apply(MemoryStream target, PendingWrite write)
    {
        if (write.Data is null)
        {
            target.SetLength(write.Offset);
            return;
        }

        target.Position = write.Offset;
        target.Write(write.Data);
    }

    private void Write(SimulatedFile file, long offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            file.Visible.Position = offset;
            file.Visible.Write(data);
            _pending.Add(new PendingWrite(file, offset, data.ToArray()));
            _armed?.Invoke();
        }
    }

    private void SetLength(SimulatedFile file, long length)
    {
        lock (_gate)
        {
            file.Visible.SetLength(length);
            _pending.Add(new PendingWrite(file, length, null));
        }
    }

    private void Flush(SimulatedFile file)
    {
        lock (_gate)
        {
            _flushes++;
            foreach (var write in _pending.Where(w => w.File == file))
            {
                Apply(file.Durable, write);
            }

            _pending.RemoveAll(w => w.File == file);
        }
    }

    private int Read(SimulatedFile file, long offset, Span<byte> buffer)
    {
        lock (_gate)
        {
            file.Visible.Position = offset;
            return file.Visible.Read(buffer);
        }
    }

    private long LengthOf(SimulatedFile file)
    {
        lock (_gate)
        {
            return file.Visible.Length;
        }
    }

    // Data null: a size change to Offset.
    private sealed record PendingWrite(SimulatedFile File, long Offset, byte[]? Data);

    private sealed class SimulatedFile(string path)
    {
        public string Path { get; } = path;

        public MemoryStream Visible { get; } = new();

        public MemoryStream Durable { get; } = new();
    }

    private sealed class FileView(PowerCutDisk disk, SimulatedFile file) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => true;

        public override long Length => disk.LengthOf(file);

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override void Flush() => disk.Flush(file);

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = disk.Read(file, _position, buffer.AsSpan(offset, count));
            _position += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void SetLength(long value) => disk.SetLength(file, value);

        public override void Write(byte[] buffer, int offset, int count)
        {
            disk.Write(file, _position, buffer.AsSpan(offset, count));
            _position += count;
        }
    }
}

/// <summary>The files a power cut left: each file's bytes by path.</summary>
/// <param name="Files">Path → content.</param>
/// <param name="KeptWrites">Unflushed writes that reached the disk anyway.</param>
/// <param name="LostWrites">Unflushed writes that were lost.</param>
/// <param name="TornSectors">When the last kept write was torn, how many of its sectors reached the disk; otherwise -1.</param>
public sealed record PowerCutImage(IReadOnlyDictionary<string, byte[]> Files, int KeptWrites, int LostWrites, int TornSectors)
{
    /// <summary>Writes the files into <paramref name="directory"/> under their own names.</summary>
    public void SaveTo(string directory)
    {
        foreach (var (path, content) in Files)
        {
            File.WriteAllBytes(Path.Combine(directory, Path.GetFileName(path)), content);
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{KeptWrites} unflushed writes kept, {LostWrites} lost{(TornSectors >= 0 ? $", the last torn after {TornSectors} sectors" : string.Empty)}";
}
