using System.Runtime.InteropServices;

namespace Pantri.Iot.LoadTest;

/// <summary>The machine a result was measured on, so figures from different machines are not compared blindly.</summary>
public sealed record MachineInfo(int Processors, string CpuModel, long MemoryBytes, string Runtime, string Os, string? ThreadPoolSpinLimit)
{
    /// <summary>This machine.</summary>
    public static MachineInfo Current()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
        return new MachineInfo(Environment.ProcessorCount, cpu, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription, Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"));
    }
}
