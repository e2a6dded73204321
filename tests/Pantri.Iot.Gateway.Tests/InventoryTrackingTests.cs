using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

public sealed class InventoryTrackingTests : GatewayTest
{
    [Test]
    public async Task The_demo_jar_walk_through_orders_once_per_low_level()
    {
        await using var jar = await Gateway.ConnectJarAsync();
        using var http = Gateway.Http(Gateway.Demo.UserAuth);

        var walk = new List<Acknowledgement>();
        for (var i = 0; i < 7; i++)
        {
            walk.Add(await Usage(jar));
        }

        var jitter = new List<Acknowledgement>();
        foreach (var level in new[] { 4, 3, 6, 5, 4 })
        {
            jitter.Add(await Level(jar, level));
        }

        var refill = await Level(jar, 20);
        var secondWalk = new List<Acknowledgement>();
        foreach (var level in new[] { 12, 8, 5 })
        {
            secondWalk.Add(await Level(jar, level));
        }

        var firstOrder = walk[^1].OrderRef!.Value;
        var cancel = await http.PostAsync($"/v1/orders/{firstOrder}/state", TriggerFlowTests.Json("""{"State":"Cancelled"}"""));
        var afterClose = await Level(jar, 4);

        Assert.Multiple(() =>
        {
            Assert.That(walk.Take(6).Select(a => a.Id), Is.All.EqualTo(200), "12 → 6 records the level");
            Assert.That(walk.Select(a => a.Level), Is.EqualTo(new double?[] { 11, 10, 9, 8, 7, 6, 5 }));
            Assert.That(walk[^1].Id, Is.EqualTo(201), "reaching 5 places the order");
            Assert.That(jitter.Select(a => a.Id), Is.All.EqualTo(200));
            Assert.That(jitter.Select(a => a.Armed), Is.All.False);
            Assert.That(refill.Id, Is.EqualTo(200));
            Assert.That(refill.Armed, Is.True, "a level of 20 re-arms");
            Assert.That(secondWalk[^1].Id, Is.EqualTo(200), "the first order is still open");
            Assert.That(secondWalk[^1].Note, Does.Contain(firstOrder.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That((int)cancel.StatusCode, Is.EqualTo(200));
            Assert.That(afterClose.Id, Is.EqualTo(201), "with the first order closed, the low level orders again");
            Assert.That(afterClose.OrderRef, Is.Not.EqualTo(firstOrder));
        });
        Assert.That(Gateway.Orders(DemoCredentials.JarRef), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_replayed_usage_report_does_not_subtract_twice()
    {
        await using var jar = await Gateway.ConnectJarAsync();
        const string Report = """{"Instruction_Ref":987654321,"Used":2,"RequestId":"u-1"}""";

        var first = await jar.RequestAsync(DeviceTopicKind.Usage, Report);
        var again = await jar.RequestAsync(DeviceTopicKind.Usage, Report);
        var next = await Usage(jar);

        Assert.That(first.Level, Is.EqualTo(10));
        Assert.That(again.CommandRef, Is.EqualTo(first.CommandRef));
        Assert.That(again.Level, Is.EqualTo(10));
        Assert.That(next.Level, Is.EqualTo(9));
    }

    [TestCase("""{"Instruction_Ref":987654321,"Level":-1}""")]
    [TestCase("""{"Instruction_Ref":987654321,"Level":1e300}""")]
    [TestCase("""{"Instruction_Ref":987654321,"Level":NaN}""")]
    [TestCase("""{"Instruction_Ref":987654321,"Level":"NaN"}""")]
    [TestCase("""{"Instruction_Ref":987654321,"Level":Infinity}""")]
    [TestCase("""{"Instruction_Ref":987654321}""")]
    [TestCase("""{"Level":3}""")]
    public async Task Bad_level_values_get_400_and_change_nothing(string payload)
    {
        await using var jar = await Gateway.ConnectJarAsync();

        var ack = await jar.RequestAsync(DeviceTopicKind.Level, payload);
        var check = await Usage(jar, used: 0);

        Assert.That(ack.Id, Is.EqualTo(400));
        Assert.That(check.Level, Is.EqualTo(12));
    }

    [TestCase("""{"Instruction_Ref":987654321,"Used":-3}""")]
    [TestCase("""{"Instruction_Ref":987654321,"Used":1e12}""")]
    public async Task Bad_usage_values_get_400(string payload)
    {
        await using var jar = await Gateway.ConnectJarAsync();

        Assert.That((await jar.RequestAsync(DeviceTopicKind.Usage, payload)).Id, Is.EqualTo(400));
    }

    [Test]
    public async Task Usage_before_any_level_is_known_gets_409()
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var created = await http.PostAsync("/v1/instructions", TriggerFlowTests.Json("""{"Product":"Tablets","Retailer":"shop","DeviceIds":["demo-jar"],"Tracking":{"ReorderAt":10,"Unit":"count"}}"""));
        var reference = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64();
        await using var jar = await Gateway.ConnectJarAsync();

        var usage = await jar.RequestAsync(DeviceTopicKind.Usage, $$"""{"Instruction_Ref":{{reference}}}""");
        var level = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref":{{reference}},"Level":40}""");
        var usageAfter = await jar.RequestAsync(DeviceTopicKind.Usage, $$"""{"Instruction_Ref":{{reference}}}""");

        Assert.That(usage.Id, Is.EqualTo(409));
        Assert.That(level.Id, Is.EqualTo(200));
        Assert.That(usageAfter.Level, Is.EqualTo(39));
    }

    [Test]
    public async Task A_level_report_on_an_untracked_instruction_gets_409()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":123456789,"Level":3}""");

        Assert.That(ack.Id, Is.EqualTo(409));
    }

    [Test]
    public async Task A_restart_between_readings_keeps_the_level_and_the_disarmed_rule()
    {
        long orderRef;
        await using (var jar = await Gateway.ConnectJarAsync())
        {
            await Level(jar, 7);
            orderRef = (await Level(jar, 5)).OrderRef!.Value;
        }

        await Gateway.RestartAsync();
        await using var again = await Gateway.ConnectJarAsync();
        var low = await Level(again, 4);
        var used = await Usage(again);

        Assert.That(low.Id, Is.EqualTo(200));
        Assert.That(low.Armed, Is.False);
        Assert.That(used.Level, Is.EqualTo(3));
        Assert.That(Gateway.Orders(DemoCredentials.JarRef).Single().Ref, Is.EqualTo(orderRef));
    }

    [Test]
    public async Task A_trigger_racing_low_readings_from_two_devices_makes_one_order()
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var scale = await (await http.PostAsync("/v1/devices", TriggerFlowTests.Json("""{"Name":"Pantry scale"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        var scaleId = scale.GetProperty("DeviceId").GetString()!;
        await http.PostAsync($"/v1/instructions/987654321/devices/{scaleId}", null);
        await using var jar = await Gateway.ConnectJarAsync();
        await using var scaleDevice = await Gateway.ConnectAsync(scaleId, scale.GetProperty("Device_Key").GetString()!);

        var sends = new[]
        {
            jar.PublishAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":4}"""),
            scaleDevice.PublishAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":3}"""),
            jar.PublishAsync(DeviceTopicKind.Trigger, "987654321"),
            scaleDevice.PublishAsync(DeviceTopicKind.Trigger, "987654321"),
        };
        await Task.WhenAll(sends);
        var acks = new[] { await jar.NextAckAsync(), await jar.NextAckAsync(), await scaleDevice.NextAckAsync(), await scaleDevice.NextAckAsync() };

        Assert.That(acks.Count(a => a.Id == 201), Is.EqualTo(1));
        Assert.That(acks.Select(a => a.OrderRef).Where(r => r is not null).Distinct().Count(), Is.EqualTo(1), "every ack that names an order names the same one");
        Assert.That(Gateway.Orders(DemoCredentials.JarRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Inventory_is_retained_for_ops_and_acks_carry_the_forecast()
    {
        await using var jar = await Gateway.ConnectJarAsync();
        var ack = await Usage(jar);
        await using var ops = await OpsClient.ConnectAsync(Gateway, Topics.OpsInventory(DemoCredentials.JarRef));

        var inventory = await ops.NextJsonAsync(Topics.OpsInventory(DemoCredentials.JarRef), _ => true);

        Assert.That(ack.Forecast!.State, Is.EqualTo("Unknown"));
        Assert.That(ack.ReorderAt, Is.EqualTo(5));
        Assert.That(ack.Unit, Is.EqualTo("count"));
        Assert.That(inventory.GetProperty("Level").GetDouble(), Is.EqualTo(11));
        Assert.That(inventory.GetProperty("ReorderAt").GetDouble(), Is.EqualTo(5));
        Assert.That(inventory.GetProperty("Armed").GetBoolean(), Is.True);
        Assert.That(inventory.GetProperty("Forecast").GetProperty("State").GetString(), Is.EqualTo("Unknown"));
    }

    [Test]
    public async Task The_user_sets_the_trigger_point_over_http()
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var response = await http.PutAsync("/v1/instructions/987654321/tracking", TriggerFlowTests.Json("""{"ReorderAt":10,"Unit":"count","Hysteresis":1}"""));
        await using var jar = await Gateway.ConnectJarAsync();

        var ack = await Level(jar, 10);

        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(ack.Id, Is.EqualTo(201));
        Assert.That(ack.ReorderAt, Is.EqualTo(10));
    }

    private static Task<Acknowledgement> Level(TestDevice jar, double level) =>
        jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref":987654321,"Level":{{level.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");

    private static Task<Acknowledgement> Usage(TestDevice jar, double used = 1) =>
        jar.RequestAsync(DeviceTopicKind.Usage, $$"""{"Instruction_Ref":987654321,"Used":{{used.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");
}
