using System.CommandLine;
using System.Globalization;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Cli;

/// <summary>Runs a verb's work on the <see cref="OfflineGateway"/> and turns refusals into messages and exit codes.</summary>
public static class CliRun
{
    /// <summary>Opens the data directory named by <paramref name="parse"/>, runs <paramref name="work"/>, closes it.
    /// A directory held by a running gateway answers <see cref="GatewayCli.Unavailable"/> with a message saying so.</summary>
    public static async Task<int> WithGatewayAsync(ParseResult parse, Func<OfflineGateway, Task<int>> work, CancellationToken cancellationToken) =>
        await WithGatewayAsync(parse, work, null, cancellationToken).ConfigureAwait(false);

    /// <summary>As <see cref="WithGatewayAsync(ParseResult, Func{OfflineGateway, Task{int}}, CancellationToken)"/>; when a
    /// running gateway holds the directory, <paramref name="whenRunning"/> (if given) does the work through its API.</summary>
    public static async Task<int> WithGatewayAsync(ParseResult parse, Func<OfflineGateway, Task<int>> work, Func<DataDirectoryInUseException, Task<int>>? whenRunning, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(work);
        OfflineGateway gateway;
        try
        {
            gateway = await OfflineGateway.OpenAsync(parse.GetValue(GatewayCli.DataDirectory), cancellationToken).ConfigureAwait(false);
        }
        catch (DataDirectoryInUseException running) when (whenRunning is not null)
        {
            return await whenRunning(running).ConfigureAwait(false);
        }
        catch (Exception refused) when (refused is GatewayStartupException or DataDirectoryInUseException)
        {
            await Console.Error.WriteLineAsync(refused.Message + " The command line works on a stopped gateway's data directory; while it runs, use the HTTP API (see README).").ConfigureAwait(false);
            return GatewayCli.Unavailable;
        }

        await using (gateway.ConfigureAwait(false))
        {
            return await work(gateway).ConfigureAwait(false);
        }
    }

    /// <summary>Prints <paramref name="print"/>'s lines for a success; for a refusal prints why to standard error and
    /// answers <see cref="GatewayCli.Refused"/>.</summary>
    public static async Task<int> ReportAsync<T>(CliContext context, SetupResult<T> result, Func<T, IEnumerable<string>> print)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(print);
        if (result.Error is not null)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"refused ({result.Status}): {result.Error}")).ConfigureAwait(false);
            return GatewayCli.Refused;
        }

        foreach (var line in print(result.Value!))
        {
            await context.Output.WriteLineAsync(line).ConfigureAwait(false);
        }

        return 0;
    }
}
