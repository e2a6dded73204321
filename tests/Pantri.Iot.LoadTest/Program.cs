using Pantri.Iot.LoadTest;
using Pantri.Iot.LoadTest.Scenarios;

var arguments = new HarnessArgs(args);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (arguments.Scenario is "serve-gateway" or "serve-echo")
{
    return await ServeCommand.RunAsync(arguments, stop.Token).ConfigureAwait(false);
}

if (arguments.Scenario is not ("latency" or "throughput" or "devices" or "storm" or "startup" or "scale"))
{
    Console.WriteLine("""
        usage: dotnet run -c Release --project tests/Pantri.Iot.LoadTest -- <scenario> [options]
          latency     [--devices 100] [--idle 0] [--rate 1000] [--duration 10] [--kind trigger|level|order]
          throughput  [--devices 100] [--rates 1000,2000,…] [--kinds trigger,level] [--step 5] [--bound 50]
          devices     [--counts 100,1000,10000,50000] [--active 100] [--rate 1000] [--duration 10]
          storm       [--devices 10000] [--timeout 120]
          startup     [--commands 1000000] [--rate 1000] [--duration 5]
          scale       [--devices 100] [--instances 1,2] [--rates 250,500,…] [--kind level] [--step 5] [--bound 50]
                      (gateway processes behind Mosquitto + PostgreSQL; --targets does not apply)
        common: [--targets F,E,M] [--out benchmark-results] [--max-minutes 20] [--orders-per-device 0]
                [--host 127.0.0.1 --port 1883 --credentials creds.json]  (a gateway already running on this machine)
        """);
    return 2;
}

// Every simulated device is a socket here and one in the target (children inherit the limit).
var openFiles = ProcessLimits.RaiseOpenFiles(1_048_576);
ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
var output = arguments.String("out", "benchmark-results");
stop.CancelAfter(TimeSpan.FromMinutes(arguments.Double("max-minutes", 20)));
var work = Path.Combine(Path.GetTempPath(), "pantri-bench-" + Environment.ProcessId);
Directory.CreateDirectory(work);
try
{
    var launcher = new TargetLauncher(arguments, work);
    var options = new Dictionary<string, string> { ["targets"] = string.Join(',', launcher.Names), ["openFiles"] = openFiles.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    var report = new Report(arguments.Scenario, options);
    Func<HarnessArgs, Report, TargetLauncher, CancellationToken, Task> scenario = arguments.Scenario switch
    {
        "latency" => LatencyScenario.RunAsync,
        "throughput" => ThroughputScenario.RunAsync,
        "devices" => DevicesScenario.RunAsync,
        "startup" => StartupScenario.RunAsync,
        _ => StormScenario.RunAsync,
    };
    Console.WriteLine($"{arguments.Scenario}: targets {string.Join(',', launcher.Names)}, open files {openFiles}");
    var run = arguments.Scenario == "scale"
        ? ScaleScenario.RunAsync(arguments, report, work, stop.Token)
        : scenario(arguments, report, launcher, stop.Token);
    arguments.ThrowIfUnread();
    await run.ConfigureAwait(false);
    await report.WriteAsync(output, CancellationToken.None).ConfigureAwait(false);
    return 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}
