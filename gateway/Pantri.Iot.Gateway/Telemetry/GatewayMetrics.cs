using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Telemetry;

/// <summary>The gateway's instruments (meter <see cref="MeterName"/>): commands by kind and ID, the press→ack time,
/// the writer's batch size, commit time and queue depth, and the storage file sizes. Updates on the hot path are one
/// counter add and one histogram record with cached tag values; gauges are read only when scraped.</summary>
public sealed class GatewayMetrics
{
    /// <summary>The name of the gateway's <see cref="Meter"/>.</summary>
    public const string MeterName = "Pantri.Iot.Gateway";

    // Bucket bounds in seconds for the press→ack time and the commit time: a commit takes ~0.1–10 ms, an ack a few ms.
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
    private static readonly int[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    private static readonly string[] KindNames = Enum.GetNames<DeviceTopicKind>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly object[] BoxedIds = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    private readonly Counter<long> _commands;
    private readonly Histogram<double> _ackDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitDuration;
    private readonly TimeProvider _time;
    private readonly string _dataDirectory;
    private Func<int>? _queueDepth;

    /// <summary>Creates the instruments on a meter of <paramref name="meterFactory"/> (disposed with the host).</summary>
    public GatewayMetrics(IMeterFactory meterFactory, IOptions<GatewayOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _dataDirectory = options.Value.DataDirectory;
        var meter = meterFactory.Create(MeterName);
        _commands = meter.CreateCounter<long>("pantri.commands", "{command}", "Commands answered, by kind (trigger, level, usage), ID (the ack's status code) and transport (mqtt, http).");
        _ackDuration = meter.CreateHistogram("pantri.command.duration", "s", "Time from a device request's arrival at the gateway to its ack being handed to the transport (press→ack, inside the gateway).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _batchSize = meter.CreateHistogram("pantri.writer.batch.size", "{command}", "Commands decided and committed together in one writer batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        _commitDuration = meter.CreateHistogram("pantri.writer.commit.duration", "s", "Time one storage commit takes (LiteDB: one journal append and flush to disk per batch; PostgreSQL: one transaction).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        meter.CreateObservableGauge("pantri.writer.queue.depth", () => _queueDepth?.Invoke() ?? 0, "{command}", "Commands waiting for the writer.");
        meter.CreateObservableGauge("pantri.storage.file.size", ObserveFileSizes, "By", "Size of each storage file in the data directory.");
    }

    /// <summary>A timestamp to pass to <see cref="CommandAnswered"/> (from the <see cref="TimeProvider"/>).</summary>
    public long Start() => _time.GetTimestamp();

    /// <summary>Counts one answered command and records its time since <paramref name="startedAt"/>.</summary>
    public void CommandAnswered(DeviceTopicKind kind, int id, string transport, long startedAt)
    {
        var kindName = (uint)kind < (uint)KindNames.Length ? KindNames[(int)kind] : "other";
        var boxedId = (uint)id < (uint)BoxedIds.Length ? BoxedIds[id] : id;
        _commands.Add(1, new TagList { { "pantri.command.kind", kindName }, { "pantri.ack.id", boxedId }, { "pantri.transport", transport } });
        _ackDuration.Record(_time.GetElapsedTime(startedAt).TotalSeconds, new KeyValuePair<string, object?>("pantri.transport", transport));
    }

    /// <summary>Records one committed writer batch.</summary>
    internal void BatchCommitted(int size, TimeSpan commitTime)
    {
        _batchSize.Record(size);
        _commitDuration.Record(commitTime.TotalSeconds);
    }

    /// <summary>The writer reports its queue depth through <paramref name="depth"/>.</summary>
    internal void ObserveQueueDepth(Func<int> depth) => _queueDepth = depth;

    private IEnumerable<Measurement<long>> ObserveFileSizes()
    {
        DirectoryInfo directory = new(_dataDirectory);
        if (!directory.Exists)
        {
            return [];
        }

        return directory.EnumerateFiles("*.db").Select(f => new Measurement<long>(f.Length, new KeyValuePair<string, object?>("file", f.Name))).ToList();
    }
}
