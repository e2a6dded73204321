using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Pantri.Iot.Broker.Tests;

public sealed class RefusalLogTests
{
    [Test]
    public void The_first_lines_of_a_reason_are_logged_then_one_summary_per_minute()
    {
        var logger = new ListLogger();
        var time = new FakeTimeProvider();
        using var refusals = new RefusalLog(logger, time, linesPerWindow: 3, TimeSpan.FromMinutes(1));

        var logged = Enumerable.Range(0, 1000).Count(_ => refusals.ShouldLog("connect-bad-credentials"));
        var other = refusals.ShouldLog("publish");
        Assert.That(logged, Is.EqualTo(3));
        Assert.That(other, Is.True, "each reason has its own allowance");
        Assert.That(logger.Lines, Is.Empty, "no summary before the minute ends");

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(logger.Lines.Select(l => (l.Level, l.Message)), Is.EqualTo(new[]
        {
            (LogLevel.Warning, "Suppressed 997 refusals of reason connect-bad-credentials in the last 00:01:00"),
        }));

        Assert.That(refusals.ShouldLog("connect-bad-credentials"), Is.True, "a new minute, a new allowance");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(logger.Lines, Has.Count.EqualTo(1), "nothing suppressed, nothing summed up");
    }
}
