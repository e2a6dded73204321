using System.Collections.Concurrent;
using System.Diagnostics;
using Pantri.Iot.Contract;

namespace Pantri.Iot.LoadTest.Load;

/// <summary>Pairs every ack with the request it answers (by RequestId) and records press→ack latency from the
/// request's scheduled send time, so a late send counts against the system (no coordinated omission).</summary>
public sealed class AckTracker
{
    private readonly ConcurrentDictionary<string, long> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<long> _commandRefs = new();
    private readonly ConcurrentDictionary<int, int> _ids = new();
    private readonly object _latencyLock = new();
    private List<long> _latencies = new(1 << 16);
    private int _sent;
    private int _acked;
    private int _unmatched;
    private int _publishFailed;

    /// <summary>Requests registered.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Requests answered by an ack.</summary>
    public int Acked => Volatile.Read(ref _acked);

    /// <summary>Acks that matched no pending request (duplicates or strangers).</summary>
    public int Unmatched => Volatile.Read(ref _unmatched);

    /// <summary>PUBLISHes the client saw fail (exception or refused PUBACK).</summary>
    public int PublishFailed => Volatile.Read(ref _publishFailed);

    /// <summary>Requests still waiting for their ack.</summary>
    public int Pending => _pending.Count;

    /// <summary>CommandRefs of every matched ack, to look up in storage afterwards.</summary>
    public IReadOnlyCollection<long> CommandRefs => _commandRefs;

    /// <summary>How many acks carried each ID.</summary>
    public IReadOnlyDictionary<int, int> Ids => _ids;

    /// <summary>Notes a request about to be sent, scheduled at <paramref name="scheduledTimestamp"/> (Stopwatch ticks).</summary>
    public void Register(string requestId, long scheduledTimestamp)
    {
        _pending[requestId] = scheduledTimestamp;
        Interlocked.Increment(ref _sent);
    }

    /// <summary>Notes a PUBLISH that failed on the client side.</summary>
    public void PublishFailedFor(string requestId)
    {
        Interlocked.Increment(ref _publishFailed);
        _pending.TryRemove(requestId, out _);
    }

    /// <summary>Handles an ack payload received at <paramref name="receivedTimestamp"/>.</summary>
    public void OnAck(ReadOnlySpan<byte> payload, long receivedTimestamp)
    {
        var ack = ContractJson.DeserializeAcknowledgement(payload);
        if (ack?.RequestId is not { } requestId || !_pending.TryRemove(requestId, out var scheduled))
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }

        _commandRefs.Enqueue(ack.CommandRef);
        _ids.AddOrUpdate(ack.Id, 1, (_, n) => n + 1);
        lock (_latencyLock)
        {
            _latencies.Add(receivedTimestamp - scheduled);
        }

        Interlocked.Increment(ref _acked);
    }

    /// <summary>Waits until nothing is pending or <paramref name="timeout"/> passes.</summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!_pending.IsEmpty && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The latency by which <paramref name="fraction"/> of <paramref name="population"/> requests were
    /// acked (NaN when fewer were): with latencies measured from one common start, the time to recover that share.</summary>
    public double TimeToFractionMs(int population, double fraction)
    {
        List<long> sorted;
        lock (_latencyLock)
        {
            sorted = [.. _latencies];
        }

        var needed = (int)Math.Ceiling(fraction * population);
        if (needed == 0 || sorted.Count < needed)
        {
            return double.NaN;
        }

        sorted.Sort();
        return sorted[needed - 1] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Takes the latencies recorded so far and starts a new window.</summary>
    public LatencyStats TakeLatencies()
    {
        List<long> taken;
        lock (_latencyLock)
        {
            taken = _latencies;
            _latencies = new List<long>(1 << 16);
        }

        return LatencyStats.From(taken);
    }
}
