using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Pantri.Iot.Testing;

/// <summary>A throw-away PostgreSQL cluster from Debian's binaries (<c>/usr/lib/postgresql/*/bin</c>): initdb in a
/// temporary directory, started with pg_ctl on a free loopback port (trust authentication, loopback only), stopped and
/// deleted on dispose. PostgreSQL refuses to run as root, so under root it runs as the <c>postgres</c> user the Debian
/// package creates. Each test takes its own database with <see cref="CreateDatabaseAsync"/>.</summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly bool _asPostgresUser;
    private int _databases;

    private PostgresServer(string bin, string directory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Where Debian's PostgreSQL binaries are, newest version first; null when not installed.</summary>
    public static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending().FirstOrDefault()
            : null;

    /// <summary>initdb + pg_ctl start; returns once it accepts connections.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            Assert.Fail("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/pg_ctl): scripts/test.sh installs Debian's postgresql");
        }

        var directory = Path.Combine(Path.GetTempPath(), "pantri-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var asPostgresUser = Environment.UserName == "root";
        var server = new PostgresServer(bin!, directory, FreePort(), asPostgresUser);
        try
        {
            if (asPostgresUser)
            {
                await RunAsync("chown", "postgres:", directory);
            }

            await server.RunPgAsync("initdb", "-D", server.DataPath, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
            var settings = $"-p {server.Port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200";
            await server.RunPgAsync("pg_ctl", "-D", server.DataPath, "-o", settings, "-l", Path.Combine(directory, "postgres.log"), "-w", "-t", "60", "start");
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A connection string for database <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20;Timeout=5";

    /// <summary>A new empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "pantri_test_" + Interlocked.Increment(ref _databases).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Runs one scalar query against <paramref name="connectionString"/>.</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(DataPath, "postmaster.pid")))
            {
                RunPgAsync("pg_ctl", "-D", DataPath, "-m", "immediate", "-w", "stop").GetAwaiter().GetResult();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    private string DataPath => Path.Combine(_directory, "data");

    private Task RunPgAsync(string tool, params string[] args) =>
        _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
