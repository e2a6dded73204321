using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;
using Pantri.Iot.Broker.Transport;

namespace Pantri.Iot.Broker.Tests;

/// <summary>When the process runs out of file descriptors, accept fails at once for as long as the pending connection
/// waits in the backlog: the loop must back off instead of spinning on both cores, and say so once.</summary>
public sealed class AcceptLoopTests
{
    [Test]
    public async Task Accept_failing_with_too_many_open_files_backs_off_and_logs_once()
    {
        var logger = new ListLogger();
        using var refusals = new RefusalLog(logger, TimeProvider.System, 10, TimeSpan.FromMinutes(1));
        using var adapter = new GuardedTcpServerAdapter(
            new TransportLimits(new IPEndPoint(IPAddress.Loopback, 0), 4096, 100, 100, TimeSpan.FromSeconds(5), new HashSet<IPAddress>()),
            MqttNetNullLogger.Instance, TimeProvider.System, refusals, logger);
        var calls = 0;
        ValueTask<Socket> AcceptFailing(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            throw new SocketException((int)SocketError.TooManyOpenSockets);
        }

        using var oneSecond = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var elapsed = Stopwatch.StartNew();
        await adapter.AcceptLoopAsync(AcceptFailing, oneSecond.Token);

        TestContext.Out.WriteLine($"{calls} accept calls in {elapsed.ElapsedMilliseconds} ms");
        Assert.That(calls, Is.InRange(2, 12), "the loop spun (or never retried)");
        Assert.That(logger.Lines.Count(l => l.Level >= LogLevel.Warning), Is.EqualTo(1));
    }
}
