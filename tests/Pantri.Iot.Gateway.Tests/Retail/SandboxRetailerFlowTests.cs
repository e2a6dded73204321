using System.Diagnostics;
using System.Net.Http.Json;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Retail;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

[Category("Integration")]
public sealed class SandboxRetailerFlowTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Test]
    public async Task With_the_embedded_default_a_demo_button_press_is_followed_by_submitted_confirmed_shipped_and_delivered_within_a_minute_and_then_orders_again()
    {
        // The embedded default: dispatch on, the sandbox's default schedule.
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Retail:Enabled=true"]);
        await using var button = await gateway.ConnectButtonAsync();
        await button.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders));
        var clock = Stopwatch.StartNew();

        var placed = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 123456789, "RequestId": "p1"}""");

        Assert.That(placed.Id, Is.EqualTo(AckIds.OrderPlaced));
        var seen = new List<OrderStatus>();
        foreach (var state in new[] { "Submitted", "Confirmed", "Shipped", "Delivered" })
        {
            var left = Minute - clock.Elapsed;
            var message = left <= TimeSpan.Zero ? null : await button.NextMessageAsync(m => IsState(m, placed.OrderRef!.Value, state), left);
            Assert.That(message, Is.Not.Null, $"no {state} on the button's orders topic within a minute of the press (seen: {string.Join(", ", seen.Select(s => s.State))})");
            seen.Add(Status(message!));
        }

        Assert.That(seen.Select(s => s.UpdatedAt), Is.Ordered, "the states arrive in lifecycle order");
        Assert.That(seen.Select(s => s.Source), Is.All.EqualTo(OrderSources.Retailer));
        Assert.That(seen[0].Reason, Is.EqualTo(SandboxRetailer.Note), "the device is told it was a test order");
        var again = await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 123456789, "RequestId": "p2"}""");
        Assert.That(again.Id, Is.EqualTo(AckIds.OrderPlaced), "a delivered order lets the button order again");
        Assert.That(again.OrderRef, Is.Not.EqualTo(placed.OrderRef));
        var history = gateway.Store.FindOrder(placed.OrderRef!.Value)!.History;
        Assert.That(history.Select(h => h.State), Is.EqualTo(new[] { OrderState.Placed, OrderState.Submitted, OrderState.Confirmed, OrderState.Shipped, OrderState.Delivered }),
            "each state entered once: the order was submitted exactly once");
        Assert.That(gateway.Store.PendingSubmissions(10).Select(e => e.OrderRef), Is.EqualTo(new[] { again.OrderRef!.Value }).Or.Empty,
            "only the new order may still be queued");
    }

    [Test]
    public async Task An_order_committed_but_not_yet_submitted_when_the_gateway_is_killed_is_submitted_once_after_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-outbox-" + Guid.NewGuid().ToString("N"));
        long orderRef;
        using (var gateway = await GatewayProcess.StartAsync(dir))
        {
            // Dispatch is off in this first life: the order is committed (and acked) and nothing sends it.
            var demo = DemoCredentials.Read(dir);
            using var http = new HttpClient { BaseAddress = gateway.HttpBase };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
            request.Headers.Add(HttpHeaders.DeviceKey, demo.ButtonKey);
            request.Headers.Add(HttpHeaders.InstructionRef, "123456789");
            using var response = await http.SendAsync(request);
            var ack = (await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!;
            Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
            orderRef = ack.OrderRef!.Value;
            gateway.Kill();
            Assert.That(await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10)), Is.True);
        }

        using (var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db")))
        {
            Assert.That(store.FindOrder(orderRef)!.State, Is.EqualTo(OrderState.Placed));
            Assert.That(store.PendingSubmissions(10).Select(e => e.OrderRef), Is.EqualTo(new[] { orderRef }),
                "the acked order's submission was committed with it");
        }

        using (var gateway = await GatewayProcess.StartAsync(dir, "--Pantri:Retail:Enabled=true", "--Pantri:Retail:SandboxStep=00:00:00.200"))
        {
            var demo = DemoCredentials.Read(dir);
            using var http = new HttpClient { BaseAddress = gateway.HttpBase };
            http.DefaultRequestHeaders.Add(HttpHeaders.UserAuth, demo.UserAuth);
            var deadline = Stopwatch.StartNew();
            string? state = null;
            while (deadline.Elapsed < TimeSpan.FromSeconds(30) && state != "Delivered")
            {
                state = (await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{orderRef}", ContractJson.Options))?.State;
                await Task.Delay(100);
            }

            Assert.That(state, Is.EqualTo("Delivered"), "after the restart the queued order went through to delivery");
            gateway.Kill();
            await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        using (var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db")))
        {
            var history = store.FindOrder(orderRef)!.History;
            Assert.That(history.Count(h => h.State == OrderState.Submitted), Is.EqualTo(1), "submitted exactly once");
            Assert.That(store.PendingSubmissions(10), Is.Empty, "nothing left in the outbox");
        }

        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public async Task A_gateway_killed_after_the_retailer_accepted_but_before_it_recorded_submitted_resends_under_the_same_key_and_converges()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-resend-" + Guid.NewGuid().ToString("N"));
        await using var retailer = await LocalRetailer.StartAsync();
        GatewayProcess? first = null;
        // The retailer takes the order, then the gateway dies before it can read the answer and commit Submitted.
        retailer.Then(async http =>
        {
            first!.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            http.Response.StatusCode = 200;
        });
        long orderRef;
        using (first = await GatewayProcess.StartAsync(dir, retailer.Args("demo-retailer")))
        {
            var demo = DemoCredentials.Read(dir);
            using var http = new HttpClient { BaseAddress = first.HttpBase };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
            request.Headers.Add(HttpHeaders.DeviceKey, demo.ButtonKey);
            request.Headers.Add(HttpHeaders.InstructionRef, "123456789");
            using var response = await http.SendAsync(request);
            orderRef = (await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!.OrderRef!.Value;
            Assert.That(await first.WaitForExitAsync(TimeSpan.FromSeconds(20)), Is.True, "killed while the retailer held the request");
        }

        using (var gateway = await GatewayProcess.StartAsync(dir, retailer.Args("demo-retailer")))
        {
            var demo = DemoCredentials.Read(dir);
            using var http = new HttpClient { BaseAddress = gateway.HttpBase };
            http.DefaultRequestHeaders.Add(HttpHeaders.UserAuth, demo.UserAuth);
            var clock = Stopwatch.StartNew();
            string? state = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(20) && state != "Submitted")
            {
                state = (await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{orderRef}", ContractJson.Options))?.State;
                await Task.Delay(100);
            }

            Assert.That(state, Is.EqualTo("Submitted"), "our state converged after the restart");
            gateway.Kill();
            await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        var requests = retailer.Requests.ToList();
        Assert.That(requests, Has.Count.EqualTo(2), "sent before the kill and once more after it");
        Assert.That(requests.Select(r => r.IdempotencyKey).Distinct(), Is.EqualTo(new[] { orderRef.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            "both under one key: a retailer that honours it keeps one order");
        Assert.That(requests[1].Body, Is.EqualTo(requests[0].Body), "the same order both times");
        using (var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db")))
        {
            Assert.That(store.FindOrder(orderRef)!.History.Count(h => h.State == OrderState.Submitted), Is.EqualTo(1));
            Assert.That(store.PendingSubmissions(10), Is.Empty);
        }

        Directory.Delete(dir, recursive: true);
    }

    private static bool IsState(MqttApplicationMessage message, long orderRef, string state) =>
        message.Topic == Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders) && Status(message) is { } status && status.OrderRef == orderRef && status.State == state;

    private static OrderStatus Status(MqttApplicationMessage message) =>
        System.Text.Json.JsonSerializer.Deserialize(message.Payload.ToArray(), ContractJson.Default.OrderStatus)!;
}
