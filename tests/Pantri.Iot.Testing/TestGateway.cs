using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Broker;
using Pantri.Iot.Gateway;
using Pantri.Iot.Gateway.Storage;
using Serilog.Core;

namespace Pantri.Iot.Testing;

/// <summary>A real gateway in this process: embedded broker on a free port, HTTP on a free port, LiteDB in a
/// temporary directory that outlives restarts until disposed. Stopping it fails the test when the gateway logged an
/// error the test did not declare with <see cref="ExpectLoggedErrors"/>.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly List<string> _extraArgs;
    private readonly Action<WebApplicationBuilder>? _configure;
    private readonly LoggedErrors _loggedErrors = new();
    private WebApplication? _app;

    private TestGateway(string dataDirectory, IEnumerable<string> extraArgs, Action<WebApplicationBuilder>? configure)
    {
        DataDirectory = dataDirectory;
        _extraArgs = extraArgs.ToList();
        _configure = configure;
    }

    public const string OpsUser = "ops-dashboard";
    public const string OpsPassword = "ops-test-password";

    public string DataDirectory { get; }

    public int MqttPort { get; private set; }

    public Uri HttpBase { get; private set; } = new("http://127.0.0.1");

    /// <summary>When true, a later <see cref="StartAsync()"/> (a restart) binds the MQTT port the first start got, so a
    /// client configured with that port finds the gateway again. Off by default: each start takes a free port.</summary>
    public bool KeepMqttPortOnRestart { get; set; }

    public IServiceProvider Services => _app!.Services;

    public DemoCredentials Demo => DemoCredentials.Read(DataDirectory);

    public static async Task<TestGateway> StartAsync(IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null, string? dataDirectory = null)
    {
        var dir = dataDirectory ?? Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        var gateway = new TestGateway(dir, args ?? [], configure);
        await gateway.StartAsync();
        return gateway;
    }

    public async Task StartAsync()
    {
        string[] args =
        [
            $"--Pantri:DataDirectory={DataDirectory}",
            $"--Pantri:Mqtt:Port={(KeepMqttPortOnRestart ? MqttPort : 0)}",
            "--Pantri:Mqtt:BindAddress=127.0.0.1",
            "--urls=http://127.0.0.1:0",
            "--Serilog:MinimumLevel:Default=Warning",
            $"--Pantri:Mqtt:OpsUsername={OpsUser}",
            $"--Pantri:Mqtt:OpsPassword={OpsPassword}",
            // Orders stay Placed unless a test turns dispatch on (--Pantri:Retail:Enabled=true): most tests move
            // orders by hand and must not race the sandbox retailer.
            "--Pantri:Retail:Enabled=false",
            .. _extraArgs,
        ];
        _app = GatewayHost.Build(args, builder =>
        {
            builder.Services.AddSingleton<ILogEventSink>(_loggedErrors);
            _configure?.Invoke(builder);
        });
        try
        {
            await _app.StartAsync();
        }
        catch
        {
            // A refused start releases what it took (the data directory lock, the store), as Program's RunAsync does.
            await _app.DisposeAsync();
            _app = null;
            throw;
        }

        MqttPort = _app.Services.GetRequiredService<EmbeddedMqttServer>().Port;
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        HttpBase = new Uri(address);
    }

    /// <summary>Stops the gateway, then fails the test if it logged an error nobody declared expected.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }

        _loggedErrors.ThrowIfUnexpected("The gateway");
    }

    /// <summary>Declares errors this test provokes on purpose: logged errors whose message or exception message
    /// contains <paramref name="messageFragment"/> do not fail it. Holds across restarts.</summary>
    public void ExpectLoggedErrors(string messageFragment) => _loggedErrors.Expect(messageFragment);

    /// <summary>Fails the test now if the gateway has logged an error nobody declared expected.</summary>
    public void ThrowIfLoggedErrors() => _loggedErrors.ThrowIfUnexpected("The gateway");

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public IGatewayStore Store => Services.GetRequiredService<IGatewayStore>();

    public Task<TestDevice> ConnectAsync(string deviceId, string key, MQTTnet.Formatter.MqttProtocolVersion version = MQTTnet.Formatter.MqttProtocolVersion.V500, bool subscribeAck = true) =>
        TestDevice.ConnectAsync(MqttPort, deviceId, key, version, subscribeAck);

    public Task<TestDevice> ConnectButtonAsync() => ConnectAsync(DemoCredentials.Button, Demo.ButtonKey);

    public Task<TestDevice> ConnectJarAsync() => ConnectAsync(DemoCredentials.Jar, Demo.JarKey);

    public IReadOnlyList<Pantri.Iot.Domain.Order> Orders(long instructionRef) =>
        Store.FindOrders("demo", 1000).Where(o => o.InstructionRef == instructionRef).ToList();

    public HttpClient Http(string? userAuth = null)
    {
        var client = new HttpClient { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(10) };
        if (userAuth is not null)
        {
            client.DefaultRequestHeaders.Add("User_Auth", userAuth);
        }

        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
