using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>The store's own write-ahead journal: every committed batch as one checksummed record, appended and flushed to
/// disk (fsync) before the batch's commands are acknowledged. A record is a few hundred bytes where LiteDB's own commit
/// writes whole 8 KB pages, so the acknowledgement waits for one small append instead of a database transaction; LiteDB
/// takes the records in afterwards, on its own thread (see <see cref="LiteDbGatewayStore"/>).</summary>
/// <remarks>Two files used in turn (<c>pantri-journal-0.db</c>, <c>pantri-journal-1.db</c>): the writer appends to one;
/// once it has grown past <see cref="SwitchBytes"/> and every record of the other is safely in LiteDB, the other is
/// emptied and becomes the one appended to. Each file starts with a header naming the database's journal id, so a file
/// left from another database (a restored backup) is never replayed. A record is
/// <c>[payload length:4][CRC-32 of sequence and payload:4][sequence:8][payload]</c>; reading stops at the first record
/// that is short or fails its checksum — a torn tail, which was never acknowledged, since the flush comes first.</remarks>
public sealed class BatchJournal : IDisposable
{
    /// <summary>Size past which the writer moves to the other file (when that one is no longer needed).</summary>
    public const long SwitchBytes = 16L * 1024 * 1024;

    // The file is grown ahead of the records, in zeros: an append then overwrites blocks the file already has, and its
    // flush to disk (fdatasync) need not commit the file system's journal, which would wait for LiteDB's writes too.
    private const int GrowBytes = 1024 * 1024;
    private const int HeaderSize = 32;
    private const int RecordHeaderSize = 16;
    private const int MaxRecordBytes = 256 * 1024 * 1024;
    private static readonly byte[] Magic = "PANTRIJ1"u8.ToArray();

    private readonly Stream[] _files;
    private readonly long[] _lastSequence = new long[2];
    private readonly long[] _end = new long[2];
    private int _active;
    private Guid _id;
    private bool _broken;

    /// <summary>Opens (or creates) the two journal files of the database at <paramref name="databasePath"/>.</summary>
    public BatchJournal(string databasePath, Func<string, Stream> openFile)
    {
        ArgumentNullException.ThrowIfNull(openFile);
        _files = [openFile(PathOf(databasePath, 0)), openFile(PathOf(databasePath, 1))];
    }

    /// <summary>The path of journal file <paramref name="index"/> (0 or 1) next to the database file.</summary>
    public static string PathOf(string databasePath, int index) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(databasePath))!, $"{Path.GetFileNameWithoutExtension(databasePath)}-journal-{index}{Path.GetExtension(databasePath)}");

    /// <summary>The records of journal <paramref name="id"/> after <paramref name="applied"/>, in order. Throws
    /// <see cref="InvalidDataException"/> when one is missing between them: acknowledged batches would be lost.</summary>
    public IReadOnlyList<(long Sequence, byte[] Payload)> ReadAfter(Guid id, long applied)
    {
        var records = new List<(long Sequence, byte[] Payload)>();
        foreach (var file in _files)
        {
            records.AddRange(ReadFile(file, id, applied));
        }

        records.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Sequence != applied + 1 + i)
            {
                throw new InvalidDataException($"The journal has no batch {applied + 1 + i} but has batch {records[i].Sequence}: acknowledged batches are missing.");
            }
        }

        return records;
    }

    /// <summary>Empties both files and starts journal <paramref name="id"/> in the first; the next record appended must be
    /// <paramref name="nextSequence"/>. Call only when every record is safely in the database.</summary>
    public void Reset(Guid id, long nextSequence)
    {
        _id = id;
        StartFile(1);
        StartFile(0);
        _active = 0;
        _lastSequence[0] = _lastSequence[1] = nextSequence - 1;
        _broken = false;
    }

    /// <summary>Appends one record and flushes it to disk. After a failure the journal refuses appends until
    /// <see cref="Reset"/>: the failed record may be partly written, and nothing may follow it.</summary>
    public void Append(long sequence, ReadOnlySpan<byte> payload)
    {
        if (_broken)
        {
            throw new IOException("The journal failed earlier and has not been recovered.");
        }

        var length = RecordHeaderSize + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var record = buffer.AsSpan(0, length);
            BinaryPrimitives.WriteInt32LittleEndian(record, payload.Length);
            BinaryPrimitives.WriteInt64LittleEndian(record[8..], sequence);
            payload.CopyTo(record[RecordHeaderSize..]);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32.HashToUInt32(record[8..]));
            var file = _files[_active];
            if (file.Length < _end[_active] + length)
            {
                Grow(file, _end[_active] + length + GrowBytes);
            }

            file.Position = _end[_active];
            file.Write(record);
            file.Flush();
            _end[_active] += length;
            _lastSequence[_active] = sequence;
        }
        catch
        {
            _broken = true;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves to the other file when the current one is large and every record of the other is at or below
    /// <paramref name="durable"/> (in the database and flushed there).</summary>
    public void SwitchIfFull(long durable)
    {
        var other = 1 - _active;
        if (_broken || _end[_active] < SwitchBytes || _lastSequence[other] > durable)
        {
            return;
        }

        try
        {
            StartFile(other);
        }
        catch
        {
            _broken = true;
            throw;
        }

        _lastSequence[other] = _lastSequence[_active];
        _active = other;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    private void StartFile(int index)
    {
        var file = _files[index];
        file.SetLength(0);
        Span<byte> header = stackalloc byte[HeaderSize];
        header.Clear();
        Magic.CopyTo(header);
        _id.TryWriteBytes(header[Magic.Length..]);
        file.Position = 0;
        file.Write(header);
        file.Flush();
        _end[index] = HeaderSize;
    }

    private static void Grow(Stream file, long size)
    {
        var zeros = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            Array.Clear(zeros);
            file.Position = file.Length;
            while (file.Position < size)
            {
                file.Write(zeros, 0, (int)Math.Min(zeros.Length, size - file.Position));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(zeros);
        }
    }

    // The records after `applied`; the ones before are only walked over (their payloads are never held).
    private static List<(long Sequence, byte[] Payload)> ReadFile(Stream file, Guid id, long applied)
    {
        var records = new List<(long, byte[])>();
        file.Position = 0;
        var header = new byte[HeaderSize];
        if (file.Length < HeaderSize || file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize
            || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic) || new Guid(header.AsSpan(Magic.Length, 16)) != id)
        {
            return records;
        }

        var recordHeader = new byte[RecordHeaderSize];
        while (file.ReadAtLeast(recordHeader, RecordHeaderSize, throwOnEndOfStream: false) == RecordHeaderSize)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(recordHeader);
            if (length <= 0 || length > MaxRecordBytes || length > file.Length - file.Position)
            {
                break;
            }

            var body = new byte[8 + length];
            recordHeader.AsSpan(8, 8).CopyTo(body);
            if (file.ReadAtLeast(body.AsMemory(8).Span, length, throwOnEndOfStream: false) < length
                || Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(recordHeader.AsSpan(4)))
            {
                break;
            }

            var sequence = BinaryPrimitives.ReadInt64LittleEndian(body);
            if (sequence > applied)
            {
                records.Add((sequence, body[8..]));
            }
        }

        return records;
    }
}
