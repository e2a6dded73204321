using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Tests.Retail;
using Pantri.Iot.Gateway.Tests.Storage.Postgres;
using Pantri.Iot.Gateway.Tests.Telemetry;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Scale;

/// <summary>Two gateway processes behind Debian's Mosquitto (the shipped mosquitto.conf) sharing one PostgreSQL
/// database, devices pressing through Mosquitto while one gateway is killed with SIGKILL.</summary>
[Category("Integration")]
[NonParallelizable]
public sealed class TwoInstancesTests
{
    private static readonly TimeSpan AckWait = TimeSpan.FromSeconds(4);

    [Test]
    public async Task Kill_one_of_two_gateways_under_load_loses_no_acked_command_opens_no_second_order_and_the_survivor_keeps_acking()
    {
        using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        using var broker = await MosquittoBroker.StartAsync();
        await using var retailer = await LocalRetailer.StartAsync();
        // The retailer refuses every order, so each closes at once and the next press places a new one: many orders,
        // each of which must be submitted once and never overlap another open order of its instruction.
        retailer.Then([.. Enumerable.Repeat(LocalRetailer.Status(200, """{"Status":"Rejected"}"""), 20_000)]);
        string[] args =
        [
            .. MosquittoExternalArgs(broker),
            .. PostgresStoreTests.PostgresArgs(database),
            .. retailer.Args("shop"),
            "--Pantri:Storage:OutboxLease=00:00:03",
            "--Pantri:CommandsPerSecond=1000",
            "--Pantri:CommandBurst=1000",
        ];

        var firstDirectory = NewDirectory();
        using var first = await GatewayProcess.StartAsync(firstDirectory, args);
        var secondDirectory = NewDirectory();
        // Every instance shares the User_Auth signing key; the demo file only lets the helper see the start finish.
        File.Copy(Path.Combine(firstDirectory, UserTokens.FileName), Path.Combine(secondDirectory, UserTokens.FileName));
        File.Copy(Path.Combine(firstDirectory, "demo-household.json"), Path.Combine(secondDirectory, "demo-household.json"));
        using var second = await GatewayProcess.StartAsync(secondDirectory, args);

        var devices = new List<(TestDevice Device, long InstructionRef)>();
        try
        {
            var userAuth = DemoCredentials.Read(firstDirectory).UserAuth;
            for (var i = 0; i < 6; i++)
            {
                var (id, key, instructionRef) = await ProvisionAsync(first.HttpBase, userAuth, $"scale-{i}");
                devices.Add((await TestDevice.ConnectAsync(broker.Port, id, key), instructionRef));
            }

            var acks = new ConcurrentBag<(Acknowledgement Ack, TimeSpan At)>();
            var clock = Stopwatch.StartNew();
            var killAt = TimeSpan.FromSeconds(4);
            var until = TimeSpan.FromSeconds(10);
            var presses = devices.Select(d => PressUntilAsync(d.Device, d.InstructionRef, clock, until, acks)).ToList();

            await Task.Delay(killAt);
            using var beforeKill = new HttpClient { BaseAddress = second.HttpBase };
            var secondAnswered = (await PrometheusScrape.ReadAsync(beforeKill)).Sum("pantri_commands_total");
            using var firstHttp = new HttpClient { BaseAddress = first.HttpBase };
            var firstAnswered = (await PrometheusScrape.ReadAsync(firstHttp)).Sum("pantri_commands_total");
            var postsBeforeKill = retailer.Requests.ToList();
            second.Kill();
            var killed = clock.Elapsed;
            await Task.WhenAll(presses);

            // Presses were spread over both instances.
            Assert.That(firstAnswered, Is.GreaterThan(10), "the first instance answered presses");
            Assert.That(secondAnswered, Is.GreaterThan(10), "the second instance answered presses");

            // The survivor kept acking every device after the kill.
            foreach (var (device, instructionRef) in devices)
            {
                Assert.That(acks.Count(a => a.Ack.InstructionRef == instructionRef && a.At > killed + AckWait), Is.GreaterThan(3), $"{device.DeviceId} got acks after the kill");
            }

            // Every acked command is stored.
            var acked = acks.Select(a => a.Ack.CommandRef).Distinct().ToList();
            var stored = await PostgresServer.ScalarAsync<long>(database, $"SELECT count(DISTINCT command_ref) FROM pantri_commands WHERE command_ref IN ({string.Join(',', acked)})");
            Assert.That(stored, Is.EqualTo(acked.Count), "acked commands missing from PostgreSQL");

            // Every order a device was told about exists, once; never two open orders for one instruction at any time.
            var placed = acks.Where(a => a.Ack.Id == 201).Select(a => a.Ack.OrderRef!.Value).Distinct().ToList();
            Assert.That(placed, Has.Count.GreaterThan(devices.Count), "orders were placed over and over");
            Assert.That(await PostgresServer.ScalarAsync<long>(database, $"SELECT count(*) FROM pantri_orders WHERE ref IN ({string.Join(',', placed)})"), Is.EqualTo(placed.Count));
            var overlapping = await PostgresServer.ScalarAsync<string>(database, OverlappingOrdersSql);
            Assert.That(overlapping, Is.Empty, "two orders of one instruction were open at the same time");

            // No order submitted twice while both ran; after the kill, at most once more (the survivor taking over a
            // submission the killed instance had claimed), under the same idempotency key.
            Assert.That(postsBeforeKill.Select(r => r.IdempotencyKey).Distinct().Count(), Is.EqualTo(postsBeforeKill.Count), "an order was submitted twice while both instances ran");
            Assert.That(retailer.Requests.GroupBy(r => r.IdempotencyKey).Max(g => g.Count()), Is.LessThanOrEqualTo(2));
            Assert.That(retailer.Requests.Count, Is.GreaterThanOrEqualTo(placed.Count - devices.Count), "placed orders reached the retailer");
        }
        finally
        {
            foreach (var (device, _) in devices)
            {
                await device.DisposeAsync();
            }
        }
    }

    // An order is open from its creation until the history's first move to a closed state: intervals of one
    // instruction's orders must not overlap.
    private const string OverlappingOrdersSql =
        """
        WITH spans AS (
            SELECT ref, instruction_ref, (doc->>'CreatedAt')::timestamptz AS opened,
                   coalesce((SELECT min((h->>'At')::timestamptz) FROM jsonb_array_elements(doc->'History') h
                             WHERE h->>'State' IN ('Rejected', 'Cancelled', 'Delivered', 'Failed')), 'infinity') AS closed
            FROM pantri_orders)
        SELECT coalesce(string_agg(format('%s [%s, %s] overlaps %s [%s, %s]', a.ref, a.opened, a.closed, b.ref, b.opened, b.closed), '; '), '')
        FROM spans a JOIN spans b
            ON a.instruction_ref = b.instruction_ref AND a.ref < b.ref AND a.opened < b.closed AND b.opened < a.closed
        """;

    public static string[] MosquittoExternalArgs(MosquittoBroker broker) =>
    [
        "--Pantri:Broker:Mode=External",
        "--Pantri:Broker:Host=127.0.0.1",
        $"--Pantri:Broker:Port={broker.Port}",
        $"--Pantri:Broker:Username={MosquittoBroker.GatewayUser}",
        $"--Pantri:Broker:Password={broker.GatewayPassword}",
    ];

    // Presses until the deadline; a press without an ack within AckWait is resent with the same RequestId, as the SDK does.
    private static async Task PressUntilAsync(TestDevice device, long instructionRef, Stopwatch clock, TimeSpan until, ConcurrentBag<(Acknowledgement, TimeSpan)> acks)
    {
        var n = 0;
        while (clock.Elapsed < until)
        {
            var requestId = $"{device.DeviceId}-{n++}";
            for (var attempt = 0; attempt < 5; attempt++)
            {
                await device.PublishAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":{{instructionRef}},"RequestId":"{{requestId}}"}""");
                var message = await device.NextMessageAsync(
                    m => m.Topic == Topics.Device(device.DeviceId, DeviceTopicKind.Ack) && ContractJson.DeserializeAcknowledgement(m.Payload.ToArray())?.RequestId == requestId,
                    AckWait);
                if (message is not null)
                {
                    var ack = ContractJson.DeserializeAcknowledgement(message.Payload.ToArray())!;
                    Assert.That(ack.Id, Is.EqualTo(201).Or.EqualTo(409), $"{requestId}: {ack.Status}");
                    acks.Add((ack, clock.Elapsed));
                    break;
                }
            }

            await Task.Delay(20);
        }
    }

    private static async Task<(string DeviceId, string Key, long InstructionRef)> ProvisionAsync(Uri httpBase, string userAuth, string name)
    {
        using var http = new HttpClient { BaseAddress = httpBase };
        http.DefaultRequestHeaders.Add("User_Auth", userAuth);
        var device = await http.PostAsJsonAsync("/v1/devices", new { Name = name });
        Assert.That(device.IsSuccessStatusCode, Is.True, await device.Content.ReadAsStringAsync());
        using var created = JsonDocument.Parse(await device.Content.ReadAsStringAsync());
        // The gateway assigns the id; the name is only a label.
        var deviceId = created.RootElement.GetProperty("DeviceId").GetString()!;
        var instruction = await http.PostAsJsonAsync("/v1/instructions", new { Product = "Tea", Retailer = "shop", DeviceIds = new[] { deviceId } });
        Assert.That(instruction.IsSuccessStatusCode, Is.True, await instruction.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await instruction.Content.ReadAsStringAsync());
        return (deviceId, created.RootElement.GetProperty("Device_Key").GetString()!, body.RootElement.GetProperty("Instruction_Ref").GetInt64());
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "pantri-scale-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
