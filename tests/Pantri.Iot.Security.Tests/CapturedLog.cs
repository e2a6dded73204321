using System.Collections.Concurrent;
using System.Globalization;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>Every log event of an in-process gateway (register with <c>configure: b =&gt;
/// b.Services.AddSingleton&lt;ILogEventSink&gt;(log)</c>), to count lines the way an operator's log would show them.</summary>
public sealed class CapturedLog : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>Events at <paramref name="level"/> or above, rendered.</summary>
    public IReadOnlyList<string> Lines(LogEventLevel level = LogEventLevel.Verbose) =>
        _events.Where(e => e.Level >= level).Select(e => e.RenderMessage(CultureInfo.InvariantCulture)).ToList();

    /// <summary>Events with this <c>EventId</c>, rendered.</summary>
    public IReadOnlyList<string> WithEventId(int eventId) =>
        _events.Where(e => EventIdOf(e) == eventId).Select(e => e.RenderMessage(CultureInfo.InvariantCulture)).ToList();

    /// <summary>The events with this <c>EventId</c>, with their properties.</summary>
    public IReadOnlyList<LogEvent> EventsWithId(int eventId) => _events.Where(e => EventIdOf(e) == eventId).ToList();

    public void Clear() => _events.Clear();

    private static int? EventIdOf(LogEvent e) =>
        e.Properties.TryGetValue("EventId", out var id) && id is StructureValue s
        && s.Properties.FirstOrDefault(p => p.Name == "Id")?.Value is ScalarValue { Value: int value } ? value : null;
}
