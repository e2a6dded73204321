using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Pantri.Iot.LoadTest.Targets;

/// <summary>The "beyond one machine" setup on loopback: Debian's Mosquitto with the repository's mosquitto.conf
/// (port, dynamic security file and persistence moved to the work directory), a PostgreSQL cluster made with
/// initdb/pg_ctl (as the postgres user under root), and any number of gateway processes in External broker mode on
/// the PostgreSQL store.</summary>
public sealed class ScaleCluster : IAsyncDisposable
{
    private const string GatewayUser = "pantri-gateway";
    private readonly string _directory;
    private readonly string _pgBin;
    private readonly bool _asPostgres;
    private readonly List<(ChildProcess Process, int HttpPort)> _gateways = [];
    private ChildProcess? _mosquitto;
    private bool _postgresStarted;

    private ScaleCluster(string directory, string pgBin)
    {
        _directory = directory;
        _pgBin = pgBin;
        _asPostgres = Environment.UserName == "root";
    }

    /// <summary>Mosquitto's port.</summary>
    public int MqttPort { get; } = ChildProcess.FreePort();

    /// <summary>PostgreSQL's port.</summary>
    public int PostgresPort { get; } = ChildProcess.FreePort();

    /// <summary>Connection string of the gateways' database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database=postgres;Maximum Pool Size=50";

    private string GatewayPassword { get; } = "gw-" + Guid.NewGuid().ToString("N");

    /// <summary>Starts PostgreSQL and Mosquitto.</summary>
    public static async Task<ScaleCluster> StartAsync(string workDirectory, CancellationToken cancellationToken)
    {
        var pgBin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending().FirstOrDefault()
            : null;
        if (pgBin is null || !BenchTarget.MosquittoAvailable)
        {
            throw new InvalidOperationException("the scale scenario needs Debian's postgresql and mosquitto (scripts/test.sh installs both)");
        }

        var directory = Path.Combine(workDirectory, "scale");
        Directory.CreateDirectory(directory);
        var cluster = new ScaleCluster(directory, pgBin);
        try
        {
            await cluster.StartPostgresAsync(cancellationToken).ConfigureAwait(false);
            await cluster.StartMosquittoAsync(cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What every gateway of the cluster is started with (after <see cref="InProcessGateway.Arguments"/>).</summary>
    public string[] GatewayArguments() =>
    [
        "--Pantri:Broker:Mode=External",
        "--Pantri:Broker:Host=127.0.0.1",
        "--Pantri:Broker:Port=" + MqttPort.ToString(CultureInfo.InvariantCulture),
        "--Pantri:Broker:Username=" + GatewayUser,
        "--Pantri:Broker:Password=" + GatewayPassword,
        "--Pantri:Storage:Provider=PostgreSql",
        "--Pantri:Storage:ConnectionString=" + ConnectionString,
        "--Pantri:Retail:Enabled=false",
    ];

    /// <summary>Starts one more gateway process, with the User_Auth signing key of <paramref name="keyFrom"/>; returns
    /// once its HTTP port is open (its intake has subscribed by then: hosted services start before the HTTP server).</summary>
    public async Task StartGatewayAsync(string keyFrom, CancellationToken cancellationToken)
    {
        var data = Path.Combine(_directory, "gw-" + _gateways.Count.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(data);
        File.Copy(Path.Combine(keyFrom, "jwt-signing.key"), Path.Combine(data, "jwt-signing.key"));
        var http = ChildProcess.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "Pantri.Iot.Gateway.dll");
        string[] args = [dll, .. InProcessGateway.Arguments(data, 0), .. GatewayArguments(), "--urls=http://127.0.0.1:" + http.ToString(CultureInfo.InvariantCulture)];
        var process = ChildProcess.Start("dotnet", args, gatewayGc: true);
        _gateways.Add((process, http));
        await process.WaitForPortAsync(http, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Means over every running gateway, from their <c>/metrics</c>: commit time (ms), commands per batch,
    /// and time inside the gateway from a request's arrival to its ack (ms).</summary>
    public async Task<(double CommitMs, double BatchSize, double InsideMs)> GatewayMeansAsync(CancellationToken cancellationToken)
    {
        double commitSum = 0, commitCount = 0, batchSum = 0, batchCount = 0, insideSum = 0, insideCount = 0;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (_, port) in _gateways)
        {
            var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), cancellationToken).ConfigureAwait(false);
            commitSum += Sum(text, "pantri_writer_commit_duration_seconds_sum");
            commitCount += Sum(text, "pantri_writer_commit_duration_seconds_count");
            batchSum += Sum(text, "pantri_writer_batch_size_sum");
            batchCount += Sum(text, "pantri_writer_batch_size_count");
            insideSum += Sum(text, "pantri_command_duration_seconds_sum");
            insideCount += Sum(text, "pantri_command_duration_seconds_count");
        }

        return (commitCount > 0 ? commitSum / commitCount * 1000 : 0, batchCount > 0 ? batchSum / batchCount : 0, insideCount > 0 ? insideSum / insideCount * 1000 : 0);
    }

    private static double Sum(string metrics, string name) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>Stops every gateway process (SIGTERM, then kill).</summary>
    public void StopGateways()
    {
        foreach (var (process, _) in _gateways)
        {
            process.Stop(TimeSpan.FromSeconds(20));
            process.Dispose();
        }

        _gateways.Clear();
    }

    /// <summary>How many of <paramref name="commandRefs"/> are not in PostgreSQL, and how many instructions have more
    /// than one open order (the unique index makes that 0 unless it is missing).</summary>
    public async Task<(int Missing, long DuplicateOpen)> CheckAsync(IReadOnlyCollection<long> commandRefs, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var found = new NpgsqlCommand("SELECT count(DISTINCT command_ref) FROM pantri_commands WHERE command_ref = ANY(@refs)", connection);
        found.Parameters.AddWithValue("refs", commandRefs.Distinct().ToArray());
        var stored = (long)(await found.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await using var duplicates = new NpgsqlCommand("SELECT count(*) FROM (SELECT instruction_ref FROM pantri_orders WHERE state IN ('Placed','Submitted','Confirmed','Shipped') GROUP BY instruction_ref HAVING count(*) > 1) d", connection);
        var duplicateOpen = (long)(await duplicates.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return (commandRefs.Distinct().Count() - (int)stored, duplicateOpen);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        StopGateways();
        _mosquitto?.Dispose();
        if (_postgresStarted)
        {
            await RunAsync(PgTool("pg_ctl"), ["-D", Path.Combine(_directory, "pg", "data"), "-m", "fast", "-w", "stop"], CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task StartPostgresAsync(CancellationToken cancellationToken)
    {
        var root = Path.Combine(_directory, "pg");
        Directory.CreateDirectory(root);
        if (_asPostgres)
        {
            await RunAsync("chown", ["postgres:", root], cancellationToken).ConfigureAwait(false);
        }

        var data = Path.Combine(root, "data");
        await RunAsync(PgTool("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"], cancellationToken).ConfigureAwait(false);
        // Durable commits (fsync and synchronous_commit stay on, as in production).
        var settings = $"-p {PostgresPort} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200";
        await RunAsync(PgTool("pg_ctl"), ["-D", data, "-o", settings, "-l", Path.Combine(root, "postgres.log"), "-w", "start"], cancellationToken).ConfigureAwait(false);
        _postgresStarted = true;
    }

    private async Task StartMosquittoAsync(CancellationToken cancellationToken)
    {
        var dynsec = Path.Combine(_directory, "dynamic-security.json");
        await RunAsync("mosquitto_ctrl", ["dynsec", "init", dynsec, GatewayUser, GatewayPassword], cancellationToken).ConfigureAwait(false);
        var shipped = FindShippedConfig();
        var config = File.ReadAllLines(shipped).Select(line => line switch
        {
            "listener 1883" => $"listener {MqttPort} 127.0.0.1",
            _ when line.StartsWith("plugin_opt_config_file ", StringComparison.Ordinal) => "plugin_opt_config_file " + dynsec,
            _ when line.StartsWith("persistence_location ", StringComparison.Ordinal) => "persistence_location " + _directory + "/",
            _ => line,
        });
        var path = Path.Combine(_directory, "mosquitto.conf");
        await File.WriteAllLinesAsync(path, config, cancellationToken).ConfigureAwait(false);
        _mosquitto = ChildProcess.Start(BenchTarget.MosquittoPath, ["-c", path]);
        await _mosquitto.WaitForPortAsync(MqttPort, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }

    private static string FindShippedConfig()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "mosquitto.conf")) && File.Exists(Path.Combine(dir.FullName, "Pantri.Iot.sln")))
            {
                return Path.Combine(dir.FullName, "mosquitto.conf");
            }
        }

        throw new FileNotFoundException("the repository's mosquitto.conf was not found above " + AppContext.BaseDirectory);
    }

    private (string File, string[] Prefix) PgTool(string tool) =>
        _asPostgres ? ("runuser", ["-u", "postgres", "--", Path.Combine(_pgBin, tool)]) : (Path.Combine(_pgBin, tool), []);

    private static Task RunAsync((string File, string[] Prefix) tool, string[] args, CancellationToken cancellationToken) =>
        RunAsync(tool.File, [.. tool.Prefix, .. args], cancellationToken);

    private static async Task RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }
}
