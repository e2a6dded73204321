using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pantri.Iot.Broker;

/// <summary>Keeps refusals (CONNECT, PUBLISH, SUBSCRIBE, closed connections) from flooding the log: per reason, the
/// first <c>linesPerWindow</c> refusals of each window are logged one line each, the rest only counted, and at the end
/// of the window one line says how many of that reason were suppressed. Reasons are a small fixed set named by the
/// broker (never text a client chose), so the counters stay bounded.</summary>
internal sealed class RefusalLog : IDisposable
{
    private readonly ILogger _logger;
    private readonly int _linesPerWindow;
    private readonly TimeSpan _window;
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ITimer _timer;

    /// <summary>Called with the reason of every refusal counted (the metrics hook).</summary>
    public Action<string>? Counted { get; set; }

    /// <summary>Starts the window timer on <paramref name="time"/>.</summary>
    public RefusalLog(ILogger logger, TimeProvider time, int linesPerWindow, TimeSpan window)
    {
        _logger = logger;
        _linesPerWindow = linesPerWindow;
        _window = window;
        _timer = time.CreateTimer(_ => Flush(), null, window, window);
    }

    /// <summary>Counts one refusal of <paramref name="reason"/>; true when the caller should log its line.</summary>
    public bool ShouldLog(string reason)
    {
        Counted?.Invoke(reason);
        var counter = _counters.GetOrAdd(reason, static _ => new Counter());
        if (Interlocked.Increment(ref counter.Seen) <= _linesPerWindow)
        {
            return true;
        }

        Interlocked.Increment(ref counter.Suppressed);
        return false;
    }

    /// <summary>Ends the window: one summary line per reason with suppressed refusals, then every count restarts.</summary>
    internal void Flush()
    {
        foreach (var (reason, counter) in _counters)
        {
            var suppressed = Interlocked.Exchange(ref counter.Suppressed, 0);
            Interlocked.Exchange(ref counter.Seen, 0);
            if (suppressed > 0)
            {
                Log.RefusalsSuppressed(_logger, suppressed, reason, _window);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _timer.Dispose();
        Flush();
    }

    private sealed class Counter
    {
        public long Seen;
        public long Suppressed;
    }
}
