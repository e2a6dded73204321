using System.Runtime.InteropServices;

namespace Pantri.Iot.LoadTest;

/// <summary>Raises the open-file limit: every simulated device is a socket here and another in the target, and
/// child processes inherit the raised limit.</summary>
public static partial class ProcessLimits
{
    private const int RlimitNofile = 7;

    /// <summary>Raises soft (and, when allowed, hard) RLIMIT_NOFILE to <paramref name="wanted"/>; returns the soft limit now in force.</summary>
    public static ulong RaiseOpenFiles(ulong wanted)
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return 0;
        }

        var raised = new RLimit { Current = wanted, Max = Math.Max(wanted, limit.Max) };
        if (SetRLimit(RlimitNofile, in raised) != 0)
        {
            // Not privileged: the soft limit can still go up to the hard one.
            raised = new RLimit { Current = Math.Min(wanted, limit.Max), Max = limit.Max };
            _ = SetRLimit(RlimitNofile, in raised);
        }

        return GetRLimit(RlimitNofile, out limit) == 0 ? limit.Current : 0;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }
}
