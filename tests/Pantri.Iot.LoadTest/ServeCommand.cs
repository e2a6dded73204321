using System.Globalization;
using Pantri.Iot.Gateway;
using Pantri.Iot.LoadTest.Targets;

namespace Pantri.Iot.LoadTest;

/// <summary>The child side of <see cref="ChildProcess"/>: runs a target server until stdin closes, answering
/// "stats" with the GC heap after a full collection.</summary>
public static class ServeCommand
{
    /// <summary>What the parent writes to ask for stats.</summary>
    public const string StatsCommand = "stats";

    /// <summary>Prefix of the answer line.</summary>
    public const string StatsPrefix = "STATS ";

    /// <summary>Runs <c>serve-gateway --data DIR --port P</c> or <c>serve-echo --port P</c>.</summary>
    public static async Task<int> RunAsync(HarnessArgs args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var port = args.Int("port", 0);
        if (args.Scenario == "serve-gateway")
        {
            await using var app = GatewayHost.Build(InProcessGateway.Arguments(args.String("data", "data"), port));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            await AnswerUntilClosedAsync(cancellationToken).ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        }

        await using var echo = new EchoBroker(port);
        await echo.StartAsync().ConfigureAwait(false);
        await AnswerUntilClosedAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static async Task AnswerUntilClosedAsync(CancellationToken cancellationToken)
    {
        using var input = new StreamReader(Console.OpenStandardInput());
        while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line == StatsCommand)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                Console.Out.WriteLine(StatsPrefix + GC.GetTotalMemory(forceFullCollection: true).ToString(CultureInfo.InvariantCulture));
                Console.Out.Flush();
            }
        }
    }
}
