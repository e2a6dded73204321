using System.Runtime.InteropServices;
using System.Text;

namespace Pantri.Iot.Sdk.Queue;

/// <summary>fsync of a directory, so that a file created or renamed in it survives a power cut (POSIX makes the
/// directory entry durable only then). .NET cannot open a directory as a file, so this calls libc's
/// <c>open</c>/<c>fsync</c>/<c>close</c> directly; on Windows (where NTFS journals renames) it does nothing.</summary>
internal static unsafe class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY on Linux and macOS

    private static readonly nint Libc = LoadLibc();

    /// <summary>Flushes <paramref name="directory"/>'s entries to disk.</summary>
    /// <exception cref="IOException">The directory could not be opened or flushed.</exception>
    public static void Flush(string directory)
    {
        if (Libc == 0)
        {
            return;
        }

        var open = (delegate* unmanaged<byte*, int, int>)NativeLibrary.GetExport(Libc, "open");
        var fsync = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(Libc, "fsync");
        var close = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(Libc, "close");

        var path = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = path)
        {
            fd = open(p, ReadOnly);
        }

        if (fd < 0)
        {
            throw new IOException($"Cannot open {directory} to flush it (errno {Marshal.GetLastSystemError()}).");
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush {directory} (errno {Marshal.GetLastSystemError()}).");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    private static nint LoadLibc()
    {
        if (OperatingSystem.IsWindows())
        {
            return 0;
        }

        // glibc's soname first (Raspberry Pi OS, Debian, Ubuntu), then whatever "libc" resolves to (musl, macOS).
        foreach (var name in new[] { "libc.so.6", "libc", "libSystem.dylib" })
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                return handle;
            }
        }

        return 0;
    }
}
