using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Telemetry;

public sealed class MetricsTests : GatewayTest
{
    private static readonly (string, string)[] MqttTriggers = [("pantri_command_kind", "trigger"), ("pantri_transport", "mqtt")];

    [Test]
    public async Task After_N_presses_the_command_counter_grew_by_N_and_the_press_to_ack_histogram_has_N_samples()
    {
        const int presses = 5;
        using var http = Gateway.Http();
        await using var button = await Gateway.ConnectButtonAsync();
        var before = await PrometheusScrape.ReadAsync(http);
        var commandsBefore = before.Sum("pantri_commands_total", MqttTriggers);
        var samplesBefore = before.Sum("pantri_command_duration_seconds_count", ("pantri_transport", "mqtt"));

        var ids = new List<int>();
        for (var i = 0; i < presses; i++)
        {
            ids.Add((await button.RequestAsync(DeviceTopicKind.Trigger, $$"""{"RequestId": "m{{i}}"}""")).Id);
        }

        // The exporter caches a scrape for a moment: read until the presses show, for a bounded time.
        var after = await ScrapeUntilAsync(http, s => s.Sum("pantri_commands_total", MqttTriggers) >= commandsBefore + presses);
        Assert.That(after.Sum("pantri_commands_total", MqttTriggers) - commandsBefore, Is.EqualTo(presses), after.Text);
        Assert.That(after.Sum("pantri_command_duration_seconds_count", ("pantri_transport", "mqtt")) - samplesBefore, Is.EqualTo(presses), after.Text);
        foreach (var id in ids.Distinct())
        {
            Assert.That(
                after.Sum("pantri_commands_total", [.. MqttTriggers, ("pantri_ack_id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))]) - before.Sum("pantri_commands_total", [.. MqttTriggers, ("pantri_ack_id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
                Is.EqualTo(ids.Count(x => x == id)),
                $"commands acked with ID {id}");
        }

        Assert.That(after.Sum("pantri_writer_batch_size_count"), Is.GreaterThanOrEqualTo(1), "writer batches are recorded");
        Assert.That(after.Sum("pantri_writer_commit_duration_seconds_count"), Is.GreaterThanOrEqualTo(1), "commit times are recorded");
        Assert.That(after.Has("pantri_writer_queue_depth"), Is.True, after.Text);
        Assert.That(after.Sum("pantri_storage_file_size_bytes", ("file", "pantri.db")), Is.Positive, after.Text);
    }

    [Test]
    public async Task Connections_are_counted_by_client_type_and_refused_connects_by_reason()
    {
        using var http = Gateway.Http();
        await using var button = await Gateway.ConnectButtonAsync();
        await using var ops = await OpsClient.ConnectAsync(Gateway);
        var refused = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, "wrong-key"));
        Assert.That(refused, Is.Not.EqualTo(MqttClientConnectResultCode.Success));

        var scrape = await ScrapeUntilAsync(http, s => s.Sum("pantri_mqtt_refusals_total", ("pantri_refusal_reason", "connect-bad-credentials")) >= 1);

        Assert.That(scrape.Sum("pantri_mqtt_connections", ("pantri_client_type", "device")), Is.EqualTo(1), scrape.Text);
        Assert.That(scrape.Sum("pantri_mqtt_connections", ("pantri_client_type", "ops")), Is.EqualTo(1), scrape.Text);
        Assert.That(scrape.Sum("pantri_mqtt_refusals_total", ("pantri_refusal_reason", "connect-bad-credentials")), Is.EqualTo(1), scrape.Text);
        Assert.That(scrape.Sum("pantri_mqtt_retained_messages"), Is.EqualTo(3), "the demo household's retained ops state: two devices' presence and the jar's inventory");
    }

    private static async Task<PrometheusScrape> ScrapeUntilAsync(HttpClient http, Func<PrometheusScrape, bool> done)
    {
        var scrape = await PrometheusScrape.ReadAsync(http);
        for (var i = 0; i < 50 && !done(scrape); i++)
        {
            await Task.Delay(100);
            scrape = await PrometheusScrape.ReadAsync(http);
        }

        return scrape;
    }
}
