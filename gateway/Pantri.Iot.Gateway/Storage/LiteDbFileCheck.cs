using System.Buffers.Binary;

namespace Pantri.Iot.Gateway.Storage;

/// <summary>Checks LiteDB's two files page by page before they are opened, because LiteDB itself accepts damage
/// silently: garbage in the log makes it lose the commits stored there without a word (open orders vanish and are
/// placed again), a garbled data file page surfaces later as an exception in the middle of a query. What a crash leaves — the
/// log ending inside a transaction that never got its confirmation page — is not damage: LiteDB discards that
/// transaction, which was never committed and so never acknowledged.</summary>
/// <remarks>Reads only the 19-byte header of each 8 KiB page (LiteDB 5 layout: page id at 0, page type at 4,
/// confirmed flag at 18), sequentially; a page whose first 16 bytes are zero is blank, as in
/// LiteDB. Data file: page <c>i</c> must say it is page <c>i</c>, page 0 must be the header. Log: every page must be a
/// LiteDB page with a confirmed flag of 0 or 1, and no blank page may come before the last confirmed one.</remarks>
public static class LiteDbFileCheck
{
    /// <summary>LiteDB's page size.</summary>
    public const int PageSize = 8192;

    private const int PageTypeOffset = 4;
    private const int ConfirmedOffset = 18;
    private const byte HeaderPageType = 1;
    private const byte LastPageType = 4;

    /// <summary>What the log holds after its last commit.</summary>
    /// <param name="UnfinishedPages">Pages of a transaction cut short by a crash (or blank pages), discarded by LiteDB.</param>
    public readonly record struct LogTail(int UnfinishedPages);

    /// <summary>Checks the data file at <paramref name="databasePath"/> and its log at <paramref name="logPath"/>.</summary>
    /// <exception cref="GatewayStartupException">A file is damaged; the message names it and the page.</exception>
    public static LogTail Verify(string databasePath, string logPath)
    {
        if (File.Exists(databasePath))
        {
            VerifyDataFile(Path.GetFullPath(databasePath));
        }

        return File.Exists(logPath) ? VerifyLog(Path.GetFullPath(logPath)) : default;
    }

    private static void VerifyDataFile(string path)
    {
        long index = 0;
        foreach (var header in PageHeaders(path))
        {
            var isValid = IsBlank(header)
                ? index > 0
                : header[PageTypeOffset] <= LastPageType && BinaryPrimitives.ReadUInt32LittleEndian(header) == index && (index > 0 || header[PageTypeOffset] == HeaderPageType);
            if (!isValid)
            {
                throw Damaged(path, index, index == 0 ? "its header page is not a LiteDB header" : "it is not the LiteDB page that belongs there");
            }

            index++;
        }
    }

    private static LogTail VerifyLog(string path)
    {
        long index = 0;
        long lastConfirmed = -1;
        long firstBlank = -1;
        foreach (var header in PageHeaders(path))
        {
            if (IsBlank(header))
            {
                firstBlank = firstBlank < 0 ? index : firstBlank;
            }
            else if (header[PageTypeOffset] > LastPageType || header[ConfirmedOffset] > 1)
            {
                throw Damaged(path, index, "it is not a LiteDB page (LiteDB would silently lose the commits stored there)");
            }
            else if (header[ConfirmedOffset] == 1)
            {
                if (firstBlank >= 0)
                {
                    throw Damaged(path, firstBlank, "it is blank although commits follow it (pages lost in a power cut or overwritten)");
                }

                lastConfirmed = index;
            }

            index++;
        }

        return new LogTail((int)(index - lastConfirmed - 1));
    }

    // The first bytes of every whole page, read sequentially in large blocks; a partial last page is ignored, as LiteDB
    // ignores it.
    private static IEnumerable<byte[]> PageHeaders(string path)
    {
        const int PagesPerRead = 128;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = new byte[PageSize * PagesPerRead];
        var header = new byte[ConfirmedOffset + 1];
        int read;
        while ((read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            for (var offset = 0; offset + PageSize <= read; offset += PageSize)
            {
                buffer.AsSpan(offset, header.Length).CopyTo(header);
                yield return header;
            }
        }
    }

    private static bool IsBlank(byte[] header) =>
        BinaryPrimitives.ReadUInt64LittleEndian(header) == 0 && BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8)) == 0;

    private static GatewayStartupException Damaged(string path, long page, string why) =>
        new($"The storage file {path} is damaged at page {page} (byte {page * PageSize}): {why}. " +
            "Restore the data directory from a backup; the gateway does not start on a damaged file.");
}
