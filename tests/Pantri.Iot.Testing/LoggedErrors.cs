using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Testing;

/// <summary>A Serilog sink that keeps what the gateway logs at Error or above, so a test fails when the gateway
/// reported a problem the test did not provoke on purpose (MQTTnet's <c>TestEnvironment.ThrowIfLogErrors</c>).</summary>
/// <remarks><see cref="Pantri.Iot.Gateway.GatewayHost"/> reads sinks from the service collection, so registering an
/// instance as <see cref="ILogEventSink"/> is all it takes.</remarks>
public sealed class LoggedErrors : ILogEventSink
{
    private readonly Lock _lock = new();
    private readonly List<LogEvent> _errors = [];
    private readonly List<string> _expected = [];

    public void Emit(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        if (logEvent.Level < LogEventLevel.Error)
        {
            return;
        }

        lock (_lock)
        {
            _errors.Add(logEvent);
        }
    }

    /// <summary>Declares errors the test provokes on purpose: those whose message or exception message contains
    /// <paramref name="fragment"/> (ordinal, case-sensitive). Covers errors logged before and after the call.</summary>
    public void Expect(string fragment)
    {
        ArgumentException.ThrowIfNullOrEmpty(fragment);
        lock (_lock)
        {
            _expected.Add(fragment);
        }
    }

    /// <summary>Removes and returns the errors logged so far that no <see cref="Expect"/> covers.</summary>
    public IReadOnlyList<LogEvent> TakeUnexpected()
    {
        lock (_lock)
        {
            var unexpected = _errors.Where(e => !_expected.Exists(fragment => Matches(e, fragment))).ToList();
            _errors.Clear();
            return unexpected;
        }
    }

    /// <summary>Fails the current test with the errors no <see cref="Expect"/> covers. When the test has already
    /// failed, the errors are written to its output instead, so the first failure is not replaced.</summary>
    public void ThrowIfUnexpected(string source)
    {
        var unexpected = TakeUnexpected();
        if (unexpected.Count == 0)
        {
            return;
        }

        Report(Describe(source, unexpected.Select(Format)));
    }

    /// <summary>The failure message: one entry per error, with its exception.</summary>
    internal static string Describe(string source, IEnumerable<string> errors)
    {
        var text = new StringBuilder(source).Append(" logged errors the test did not expect (declare provoked ones with ExpectLoggedErrors):");
        foreach (var error in errors)
        {
            text.AppendLine().Append("  ").Append(error);
        }

        return text.ToString();
    }

    /// <summary>Fails the test with <paramref name="report"/>. When the test has already failed an assertion, the
    /// report goes to the test's output instead, so that failure stays the one reported. An exception of another kind
    /// still on its way out of an <c>await using</c> is replaced by this failure (as with MQTTnet's TestEnvironment);
    /// the logged errors usually name its cause.</summary>
    internal static void Report(string report)
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            TestContext.Out.WriteLine(report);
            return;
        }

        Assert.Fail(report);
    }

    private static string Format(LogEvent e)
    {
        var text = $"[{e.Level}] {e.RenderMessage(CultureInfo.InvariantCulture)}";
        return e.Exception is null ? text : text + Environment.NewLine + "    " + e.Exception.ToString().ReplaceLineEndings(Environment.NewLine + "    ");
    }

    private static bool Matches(LogEvent logEvent, string fragment) =>
        logEvent.RenderMessage(CultureInfo.InvariantCulture).Contains(fragment, StringComparison.Ordinal)
        || (logEvent.Exception?.Message.Contains(fragment, StringComparison.Ordinal) ?? false);
}
