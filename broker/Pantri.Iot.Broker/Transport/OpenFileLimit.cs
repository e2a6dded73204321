using System.Globalization;

namespace Pantri.Iot.Broker.Transport;

/// <summary>The process's open-file limit (RLIMIT_NOFILE, soft), which every TCP connection counts against, and the
/// connection cap that leaves room below it for the data files, the HTTP server and the runtime.</summary>
internal static class OpenFileLimit
{
    /// <summary>The soft RLIMIT_NOFILE from <c>/proc/self/limits</c>; null where that file does not exist or cannot be
    /// read (not Linux), and for "unlimited".</summary>
    public static long? ReadSoftLimit(string path = "/proc/self/limits")
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Descriptors kept for everything that is not an MQTT connection: a quarter of the limit, at least 64
    /// and at most 1,024.</summary>
    public static long Reserve(long limit) => Math.Clamp(limit / 4, 64, 1024);

    /// <summary><paramref name="configured"/>, lowered to <paramref name="limit"/> minus <see cref="Reserve"/> when
    /// that is smaller (at least 1).</summary>
    public static int Clamp(int configured, long? limit) =>
        limit is not { } l ? configured : (int)Math.Max(1, Math.Min(configured, l - Reserve(l)));
}
