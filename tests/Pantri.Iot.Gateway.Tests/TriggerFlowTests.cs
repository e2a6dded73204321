using System.Text;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

public sealed class TriggerFlowTests : GatewayTest
{
    [Test]
    public async Task A_press_places_one_order_and_acks_201_with_its_command_ref()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 123456789, "RequestId": "a1"}""");

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(ack.Status, Is.EqualTo("Done"));
        Assert.That(ack.CommandRef, Is.Positive);
        Assert.That(ack.InstructionRef, Is.EqualTo(DemoCredentials.ButtonRef));
        Assert.That(ack.RequestId, Is.EqualTo("a1"));
        var order = Gateway.Orders(DemoCredentials.ButtonRef).Single();
        Assert.That(order.Ref, Is.EqualTo(ack.OrderRef));
        Assert.That(order.CommandRef, Is.EqualTo(ack.CommandRef));
        Assert.That(order.State, Is.EqualTo(OrderState.Placed));
        Assert.That(order.DeviceId, Is.EqualTo(DemoCredentials.Button));
        Assert.That(Gateway.Store.FindCommandByRef(ack.CommandRef), Is.Not.Null, "an acknowledged command is stored");
    }

    [TestCase("123456789")]
    [TestCase("")]
    [TestCase("{}")]
    [TestCase("""{"instruction_ref":"123456789","extra":[1,2,{"x":null}]}""")]
    public async Task Bare_empty_and_case_insensitive_payloads_all_trigger_the_buttons_instruction(string payload)
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, payload);

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(ack.InstructionRef, Is.EqualTo(DemoCredentials.ButtonRef));
    }

    [TestCase("{not json")]
    [TestCase("""{"Instruction_Ref": -5}""")]
    [TestCase("""{"Instruction_Ref": "abc"}""")]
    [TestCase("12ab")]
    [TestCase("[1,2]")]
    [TestCase("""{"Instruction_Ref": 123456789} trailing""")]
    public async Task Malformed_payloads_get_400_and_place_nothing(string payload)
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, payload);

        Assert.That(ack.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(ack.Status, Does.StartWith("Didn't do - "));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Is.Empty);
    }

    [Test]
    public async Task A_bad_message_loses_nothing_else_on_the_same_connection()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var bad = await button.RequestAsync(DeviceTopicKind.Trigger, "{oops");
        var good = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");

        Assert.That(bad.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(Gateway.Store.FindCommandByRef(bad.CommandRef)!.AccountId, Is.EqualTo("demo"), "a refusal is recorded against the device's account");
        Assert.That(good.Id, Is.EqualTo(AckIds.OrderPlaced));
    }

    [Test]
    public async Task An_unknown_instruction_gets_404()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 555}""");

        Assert.That(ack.Id, Is.EqualTo(AckIds.UnknownInstruction));
        Assert.That(ack.InstructionRef, Is.EqualTo(555));
    }

    [Test]
    public async Task Another_devices_instruction_gets_403_and_no_order()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "987654321");

        Assert.That(ack.Id, Is.EqualTo(AckIds.NotPaired));
        Assert.That(Gateway.Orders(DemoCredentials.JarRef), Is.Empty);
    }

    [Test]
    public async Task A_second_press_while_the_first_order_is_open_gets_409_naming_it()
    {
        await using var button = await Gateway.ConnectButtonAsync();

        var first = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        var second = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");

        Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(second.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(second.OrderRef, Is.EqualTo(first.OrderRef));
        Assert.That(second.Status, Does.Contain(first.OrderRef!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(second.CommandRef, Is.Not.EqualTo(first.CommandRef));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_repeated_request_id_replays_the_original_ack_and_creates_nothing()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        const string Press = """{"Instruction_Ref": 123456789, "RequestId": "press-1"}""";

        var first = await button.RequestAsync(DeviceTopicKind.Trigger, Press);
        var again = await button.RequestAsync(DeviceTopicKind.Trigger, Press);

        Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(again.Id, Is.EqualTo(AckIds.OrderPlaced), "the replay is the original ack, not a 409");
        Assert.That(again.CommandRef, Is.EqualTo(first.CommandRef));
        Assert.That(again.OrderRef, Is.EqualTo(first.OrderRef));
        Assert.That(again.Replayed, Is.True);
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Mqtt5_correlation_data_deduplicates_and_is_echoed_on_an_own_response_topic()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        await button.SubscribeAsync("pantri/v1/devices/demo-button/replies/#");
        var correlation = Encoding.UTF8.GetBytes("corr-42");
        void Request(MqttApplicationMessageBuilder b) => b.WithResponseTopic("pantri/v1/devices/demo-button/replies/1").WithCorrelationData(correlation);

        await button.PublishAsync(DeviceTopicKind.Trigger, "123456789", configure: Request);
        var reply = await button.NextMessageAsync(m => m.Topic == "pantri/v1/devices/demo-button/replies/1", TestDevice.AckTimeout);
        await button.PublishAsync(DeviceTopicKind.Trigger, "123456789", configure: Request);
        var secondReply = await button.NextMessageAsync(m => m.Topic == "pantri/v1/devices/demo-button/replies/1", TestDevice.AckTimeout);

        Assert.That(reply, Is.Not.Null);
        Assert.That(reply!.CorrelationData, Is.EqualTo(correlation));
        var first = ContractJson.DeserializeAcknowledgement(reply.Payload.ToArray())!;
        var second = ContractJson.DeserializeAcknowledgement(secondReply!.Payload.ToArray())!;
        Assert.That(first.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(second.CommandRef, Is.EqualTo(first.CommandRef));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(1));
        Assert.That(await button.ReceivesNothingAsync(m => m.Topic == Topics.Device(DemoCredentials.Button, DeviceTopicKind.Ack), TimeSpan.FromMilliseconds(300)), Is.True,
            "exactly one ack per command: a request answered on its response topic gets nothing on …/ack");
    }

    [Test]
    public async Task A_response_topic_in_another_devices_namespace_is_ignored()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        await using var jar = await Gateway.ConnectAsync(DemoCredentials.Jar, Gateway.Demo.JarKey, subscribeAck: false);
        await jar.SubscribeAsync("pantri/v1/devices/demo-jar/#");

        await button.PublishAsync(DeviceTopicKind.Trigger, "123456789", configure: b => b.WithResponseTopic("pantri/v1/devices/demo-jar/ack"));
        var ack = await button.NextAckAsync();

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), "the ack still goes to the button's own ack topic");
        Assert.That(await jar.ReceivesNothingAsync(_ => true, TimeSpan.FromMilliseconds(500)), Is.True);
    }

    [Test]
    public async Task Processed_commands_appear_on_the_ops_events_topic()
    {
        await using var ops = await OpsClient.ConnectAsync(Gateway);
        await using var button = await Gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        var evt = await ops.NextJsonAsync(Topics.OpsEvents, e => e.GetProperty("Ack").GetProperty("CommandRef").GetInt64() == ack.CommandRef);
        var order = await ops.NextJsonAsync(Topics.OpsOrder(ack.OrderRef!.Value), _ => true);

        Assert.That(evt.GetProperty("DeviceId").GetString(), Is.EqualTo(DemoCredentials.Button));
        Assert.That(evt.GetProperty("Kind").GetString(), Is.EqualTo("trigger"));
        Assert.That(order.GetProperty("State").GetString(), Is.EqualTo("Placed"));
    }

    [Test]
    public async Task Presence_goes_online_then_offline_even_when_a_device_drops_without_disconnect()
    {
        await using var ops = await OpsClient.ConnectAsync(Gateway);
        // A new dashboard first gets the presence rebuilt at start (retained, offline, no LastSeen).
        await ops.NextJsonAsync(Topics.OpsDevice(DemoCredentials.Button), p => p.GetProperty("Reason").GetString() == "gateway-restarted");
        var button = await Gateway.ConnectButtonAsync();

        var online = await ops.NextJsonAsync(Topics.OpsDevice(DemoCredentials.Button), p => p.GetProperty("Status").GetString() == "online");
        button.Client.Dispose(); // drops the socket, no DISCONNECT
        var offline = await ops.NextJsonAsync(Topics.OpsDevice(DemoCredentials.Button), p => p.GetProperty("Status").GetString() == "offline");

        Assert.That(online.GetProperty("LastSeen").GetDateTimeOffset(), Is.LessThanOrEqualTo(offline.GetProperty("LastSeen").GetDateTimeOffset()));
        Assert.That(offline.GetProperty("Reason").GetString(), Is.Not.EqualTo("clean"));
    }

    [Test]
    public async Task A_device_sending_too_fast_gets_429_and_nothing_is_recorded_for_it()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:CommandsPerSecond=0.01", "--Pantri:CommandBurst=2"]);
        await using var button = await gateway.ConnectButtonAsync();

        var acks = new List<Acknowledgement>();
        for (var i = 0; i < 4; i++)
        {
            acks.Add(await button.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":123456789,"RequestId":"r{{i}}"}"""));
        }

        Assert.That(acks.Select(a => a.Id), Is.EqualTo(new[] { 201, 409, 429, 429 }));
        Assert.That(gateway.Store.FindCommandByRef(acks[2].CommandRef), Is.Null);
        Assert.That(gateway.Store.FindCommandByRef(acks[1].CommandRef), Is.Not.Null);
    }

    [Test]
    public async Task A_restart_keeps_orders_and_does_not_recreate_the_demo_household()
    {
        var demoBefore = await File.ReadAllTextAsync(Path.Combine(Gateway.DataDirectory, "demo-household.json"));
        long orderRef;
        await using (var button = await Gateway.ConnectButtonAsync())
        {
            orderRef = (await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).OrderRef!.Value;
        }

        await Gateway.RestartAsync();

        Assert.That(await File.ReadAllTextAsync(Path.Combine(Gateway.DataDirectory, "demo-household.json")), Is.EqualTo(demoBefore));
        await using var again = await Gateway.ConnectButtonAsync();
        var ack = await again.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        Assert.That(ack.Id, Is.EqualTo(AckIds.Conflict), "the order from before the restart is still open");
        Assert.That(ack.OrderRef, Is.EqualTo(orderRef));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef).Single().Ref, Is.EqualTo(orderRef));
    }

    [Test]
    public async Task Cancelling_the_open_order_lets_the_next_press_order_again()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        var first = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        using var http = Gateway.Http(Gateway.Demo.UserAuth);

        var cancel = await http.PostAsync($"/v1/orders/{first.OrderRef}/state", Json("""{"State":"Cancelled"}"""));
        var again = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        var cancelTwice = await http.PostAsync($"/v1/orders/{first.OrderRef}/state", Json("""{"State":"Delivered"}"""));

        Assert.That((int)cancel.StatusCode, Is.EqualTo(200));
        Assert.That(again.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(again.OrderRef, Is.Not.EqualTo(first.OrderRef));
        Assert.That((int)cancelTwice.StatusCode, Is.EqualTo(404), "a closed order never moves again");
        Assert.That(Gateway.Store.FindOrder(first.OrderRef!.Value)!.State, Is.EqualTo(OrderState.Cancelled));
    }

    [Test]
    public async Task Order_changes_reach_the_paired_device_on_its_orders_topic()
    {
        await using var button = await Gateway.ConnectButtonAsync();
        await button.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders));
        var placed = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        using var http = Gateway.Http(Gateway.Demo.UserAuth);

        await http.PostAsync($"/v1/orders/{placed.OrderRef}/state", Json("""{"State":"Cancelled"}"""));
        var update = await button.NextMessageAsync(m => m.Topic.EndsWith("/orders", StringComparison.Ordinal) && Encoding.UTF8.GetString(m.Payload.ToArray()).Contains("Cancelled", StringComparison.Ordinal), TestDevice.AckTimeout);

        Assert.That(update, Is.Not.Null);
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
