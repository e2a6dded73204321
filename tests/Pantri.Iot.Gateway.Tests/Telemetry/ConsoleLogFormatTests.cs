using System.Text.Json;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Telemetry;

/// <summary>The console log format is chosen by <c>Pantri:Logging:ConsoleFormat</c>, and every line is written once
/// (a JSON sink beside a hard-coded text sink used to print each line twice).</summary>
[Category("Integration")]
public sealed class ConsoleLogFormatTests
{
    private const string Listening = "Now listening on";

    [Test]
    public async Task Json_format_writes_every_line_once_as_compact_json()
    {
        var lines = await RunAsync("--Pantri:Logging:ConsoleFormat=json");

        Assert.That(lines, Is.Not.Empty);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.That(json.RootElement.TryGetProperty("@t", out _), Is.True, line);
        }

        Assert.That(lines.Count(l => l.Contains(Listening, StringComparison.Ordinal)), Is.EqualTo(1), string.Join('\n', lines));
    }

    [Test]
    public async Task Text_is_the_default_and_writes_every_line_once()
    {
        var lines = await RunAsync();

        Assert.That(lines.Count(l => l.Contains(Listening, StringComparison.Ordinal)), Is.EqualTo(1), string.Join('\n', lines));
        Assert.That(lines.Where(l => l.StartsWith('{')), Is.Empty);
        Assert.That(lines.Distinct().Count(), Is.EqualTo(lines.Count), "no line repeated");
    }

    [Test]
    public async Task An_unknown_format_refuses_to_start_naming_the_option()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-logfmt-" + Guid.NewGuid().ToString("N"));
        var refused = Assert.ThrowsAsync<InvalidOperationException>(async () => (await GatewayProcess.StartAsync(dir, "--Pantri:Logging:ConsoleFormat=xml")).Dispose());
        Assert.That(refused!.Message, Does.Contain("ConsoleFormat"));
    }

    private static async Task<List<string>> RunAsync(params string[] args)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-logfmt-" + Guid.NewGuid().ToString("N"));
        using var gateway = await GatewayProcess.StartAsync(dir, args);
        gateway.Terminate();
        Assert.That(await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20)), Is.True);
        await Task.Delay(200); // the last lines of stdout
        return gateway.OutputLines.Where(l => l.Length > 0).ToList();
    }
}
