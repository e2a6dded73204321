using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>Keeps every event the gateway logs (at the test gateway's minimum level, Warning), so a test can say what
/// the gateway did not do: no reload, one error.</summary>
internal sealed class LogRecorder : ILogEventSink
{
    private readonly Lock _lock = new();
    private readonly List<LogEvent> _events = [];

    public void Emit(LogEvent logEvent)
    {
        lock (_lock)
        {
            _events.Add(logEvent);
        }
    }

    public IReadOnlyList<LogEvent> Events(LogEventLevel level)
    {
        lock (_lock)
        {
            return _events.Where(e => e.Level == level).ToList();
        }
    }

    /// <summary>Events whose message template contains <paramref name="fragment"/>.</summary>
    public int Count(string fragment)
    {
        lock (_lock)
        {
            return _events.Count(e => e.MessageTemplate.Text.Contains(fragment, StringComparison.Ordinal));
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
        }
    }
}
