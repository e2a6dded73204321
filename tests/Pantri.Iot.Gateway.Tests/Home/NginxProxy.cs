using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>Debian's nginx running the shipped <c>deploy/nginx.conf</c> in a temporary prefix, on free loopback ports,
/// never the system service: the file's listen ports, upstreams, certificate and log paths are replaced (each
/// replacement must match, so a change to the file that the test no longer understands fails it), and the process is
/// killed on dispose.</summary>
internal sealed class NginxProxy : IDisposable
{
    private readonly Process _process;
    private readonly string _prefix;

    private NginxProxy(Process process, string prefix, int httpsPort, int mqttsPort)
    {
        _process = process;
        _prefix = prefix;
        HttpsPort = httpsPort;
        MqttsPort = mqttsPort;
    }

    public int HttpsPort { get; }

    public int MqttsPort { get; }

    public static string ShippedConfig()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "nginx.conf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("deploy/nginx.conf not found above " + AppContext.BaseDirectory);
    }

    public static string Binary => File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

    /// <summary>Starts nginx in front of a gateway at <paramref name="httpPort"/>/<paramref name="mqttPort"/> with the
    /// certificate files in <paramref name="tlsDirectory"/>; <paramref name="edit"/> changes the config further.</summary>
    public static async Task<NginxProxy> StartAsync(int httpPort, int mqttPort, string tlsDirectory, Func<string, string>? edit = null)
    {
        var prefix = Directory.CreateTempSubdirectory("pantri-nginx-").FullName;
        var httpsPort = FreePort();
        var mqttsPort = FreePort();
        var config = File.ReadAllText(ShippedConfig());
        config = Replace(config, "worker_processes auto;", "worker_processes 1;");
        config = Replace(config, "listen 443 ssl;", $"listen 127.0.0.1:{httpsPort} ssl;");
        config = Replace(config, "listen [::]:443 ssl;", string.Empty);
        config = Replace(config, "listen 8883 ssl;", $"listen 127.0.0.1:{mqttsPort} ssl;");
        config = Replace(config, "listen [::]:8883 ssl;", string.Empty);
        config = Replace(config, "server 127.0.0.1:5000;", $"server 127.0.0.1:{httpPort};");
        config = Replace(config, "server 127.0.0.1:1883;", $"server 127.0.0.1:{mqttPort};");
        config = Replace(config, "/etc/pantri/tls/", tlsDirectory.TrimEnd('/') + "/");
        config = Replace(config, "/var/log/nginx/pantri-access.log", Path.Combine(prefix, "access.log"));
        config = Replace(config, "\nhttp {", $"\nhttp {{\n    client_body_temp_path {prefix}/body;\n    proxy_temp_path {prefix}/proxy;\n    fastcgi_temp_path {prefix}/fastcgi;\n    uwsgi_temp_path {prefix}/uwsgi;\n    scgi_temp_path {prefix}/scgi;");
        config = edit?.Invoke(config) ?? config;
        var configPath = Path.Combine(prefix, "nginx.conf");
        File.WriteAllText(configPath, config);

        var info = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])["-p", prefix, "-c", configPath, "-e", Path.Combine(prefix, "error.log"), "-g", $"daemon off; master_process off; pid {prefix}/nginx.pid;"])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var proxy = new NginxProxy(process, prefix, httpsPort, mqttsPort);
        for (var i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                var failure = $"nginx exited {process.ExitCode}: {await process.StandardError.ReadToEndAsync()} {proxy.ErrorLog}";
                proxy.Dispose();
                throw new InvalidOperationException(failure);
            }

            if (Accepts(httpsPort) && Accepts(mqttsPort))
            {
                return proxy;
            }

            await Task.Delay(50);
        }

        proxy.Dispose();
        throw new TimeoutException("nginx did not listen within 5 s");
    }

    public string ErrorLog => File.Exists(Path.Combine(_prefix, "error.log")) ? File.ReadAllText(Path.Combine(_prefix, "error.log")) : string.Empty;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Replace(string config, string from, string to)
    {
        if (!config.Contains(from, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"deploy/nginx.conf no longer contains '{from}'; update NginxProxy with it");
        }

        return config.Replace(from, to, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
