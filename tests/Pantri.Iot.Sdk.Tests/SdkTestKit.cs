using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pantri.Iot.Sdk.Tests;

/// <summary>Builds SDK clients for a <see cref="TestGateway"/> and keeps what they log, so a test can check that no
/// secret was written.</summary>
internal sealed class SdkTestKit : IAsyncDisposable
{
    private readonly List<PantriDeviceClient> _clients = [];

    public SdkTestKit()
    {
        Directory = Path.Combine(Path.GetTempPath(), "pantri-sdk-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>A temporary directory for queue files, deleted with the kit.</summary>
    public string Directory { get; }

    public RecordingLogger Logger { get; } = new();

    public static PantriDeviceOptions Options(TestGateway gateway, string deviceId, string key, PantriProtocolVersion version = PantriProtocolVersion.Mqtt5) => new()
    {
        Host = "127.0.0.1",
        Port = gateway.MqttPort,
        DeviceId = deviceId,
        DeviceKey = key,
        ProtocolVersion = version,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(500),
    };

    public static PantriDeviceOptions Button(TestGateway gateway, PantriProtocolVersion version = PantriProtocolVersion.Mqtt5) =>
        Options(gateway, DemoCredentials.Button, gateway.Demo.ButtonKey, version);

    public static PantriDeviceOptions Jar(TestGateway gateway, PantriProtocolVersion version = PantriProtocolVersion.Mqtt5) =>
        Options(gateway, DemoCredentials.Jar, gateway.Demo.JarKey, version);

    public string QueuePath(string name = "device.queue") => Path.Combine(Directory, name);

    public PantriDeviceClient Client(PantriDeviceOptions options)
    {
        var client = new PantriDeviceClient(options, Logger);
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An <see cref="ILogger{T}"/> that keeps every formatted message and exception.</summary>
internal sealed class RecordingLogger : ILogger<PantriDeviceClient>
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Text)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Text)> Entries => _entries.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception) + (exception is null ? "" : Environment.NewLine + exception);
        _entries.Enqueue((logLevel, eventId, text));
    }

    public void AssertNeverLogged(string secret)
    {
        var leaks = Entries.Where(e => e.Text.Contains(secret, StringComparison.Ordinal)).Select(e => e.Text).ToList();
        Assert.That(leaks, Is.Empty, "the SDK logged a secret");
    }
}

internal static class GatewayLogs
{
    /// <summary>Starts a gateway for SDK and sample tests. Devices that hang up as soon as their ack arrives (the C
    /// firmware, a sample that exits) used to make MQTTnet log "Sending PUBLISH packet failed" at Error; the broker's log
    /// bridge now logs connection teardown at Debug, so any error logged here fails the test.</summary>
    public static Task<TestGateway> StartAsync(IEnumerable<string>? args = null) => TestGateway.StartAsync(args);
}

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }
}
