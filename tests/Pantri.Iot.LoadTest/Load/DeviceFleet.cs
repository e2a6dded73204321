using System.Diagnostics;
using System.Net;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Many simulated devices connected to one target.</summary>
public sealed class DeviceFleet : IAsyncDisposable
{
    /// <summary>Clients per loopback source address; one address has ~28k ephemeral ports.</summary>
    private const int ClientsPerSourceAddress = 20_000;

    private readonly List<SimulatedDevice> _devices = [];

    private DeviceFleet()
    {
    }

    /// <summary>The devices, connected.</summary>
    public IReadOnlyList<SimulatedDevice> Devices => _devices;

    /// <summary>How long connecting them all took.</summary>
    public TimeSpan ConnectTime { get; private set; }

    /// <summary>Connects one device per credential, <paramref name="parallelism"/> at a time.</summary>
    public static async Task<DeviceFleet> ConnectAsync(IReadOnlyList<DeviceCredential> credentials, string host, int port, AckTracker tracker, int parallelism, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var fleet = new DeviceFleet();
        for (var i = 0; i < credentials.Count; i++)
        {
            fleet._devices.Add(new SimulatedDevice(credentials[i], host, port, SourceAddress(i), tracker));
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await Parallel.ForEachAsync(fleet._devices, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (device, ct) => await device.ConnectAsync(ct).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        fleet.ConnectTime = Stopwatch.GetElapsedTime(started);
        return fleet;
    }

    /// <summary>127.0.0.1 for the first 20k devices, 127.0.0.2 for the next, and so on.</summary>
    public static IPAddress SourceAddress(int index) => new([127, 0, 0, (byte)(1 + (index / ClientsPerSourceAddress))]);

    /// <summary>Routes every device's acks to <paramref name="tracker"/>.</summary>
    public void UseTracker(AckTracker tracker)
    {
        foreach (var device in _devices)
        {
            device.UseTracker(tracker);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_devices, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (d, _) => await d.DisconnectAsync().ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var device in _devices)
        {
            device.Dispose();
        }

        _devices.Clear();
    }
}
