using System.Text.Json.Serialization;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>What one open-loop run at one rate produced.</summary>
public sealed record LoadStep(
    RequestKind Kind,
    double OfferedRate,
    int ActiveDevices,
    long Requested,
    int Acked,
    int Lost,
    int PublishFailed,
    int UnmatchedAcks,
    double SendSeconds,
    LatencyStats Latency,
    IReadOnlyDictionary<int, int> AckIds,
    [property: JsonIgnore] IReadOnlyCollection<long> CommandRefs)
{
    /// <summary>How late the harness sent each request after it was due, in ms: a p99 near the target's latency means the
    /// client side, not the target, is the limit.</summary>
    public LatencyStats SendLag { get; init; } = LatencyStats.Empty;

    /// <summary>Acked requests per second over the send window.</summary>
    public double AckedRate => SendSeconds > 0 ? Acked / SendSeconds : 0;

    /// <summary>True when every request was acked and p99 stayed under <paramref name="p99BoundMs"/>.</summary>
    public bool Held(double p99BoundMs) => Lost == 0 && PublishFailed == 0 && Latency.P99 <= p99BoundMs;
}
