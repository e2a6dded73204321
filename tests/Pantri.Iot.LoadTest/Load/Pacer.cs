using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Waits until a Stopwatch timestamp with sub-millisecond precision and without spinning a core:
/// <c>nanosleep</c> with the calling thread's timer slack set to 1 µs (Linux; elsewhere <see cref="Thread.Sleep(int)"/>
/// with 1 ms steps). <c>Task.Delay(1)</c> wakes after 1–2 ms and then sends everything that fell due in a burst, which
/// added 1.5–2 ms to every measured p50 and hid part of the gap between targets.</summary>
public static partial class Pacer
{
    private const int PrSetTimerSlack = 29;
    private static readonly bool IsLinux = OperatingSystem.IsLinux();

    /// <summary>Makes the calling thread's sleeps end within microseconds of their deadline (Linux).</summary>
    public static void UsePreciseTimers()
    {
        if (IsLinux)
        {
            _ = SetTimerSlack(PrSetTimerSlack, 1000, 0, 0, 0);
        }
    }

    /// <summary>Returns at (or just after) <paramref name="timestamp"/>.</summary>
    public static void WaitUntil(long timestamp)
    {
        while (true)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            var nanoseconds = remaining * 1_000_000_000 / Stopwatch.Frequency;
            if (IsLinux)
            {
                var request = new TimeSpec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
                _ = NanoSleep(in request, IntPtr.Zero);
            }
            else
            {
                Thread.Sleep(Math.Max(1, (int)(nanoseconds / 1_000_000)));
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(in TimeSpec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int SetTimerSlack(int option, ulong slack, ulong arg3, ulong arg4, ulong arg5);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
