using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

/// <summary>A household's cancel reaches the retailer when the retailer may hold the order, durably and once per order
/// (one idempotency key), and the retailer's refusal is what the household reads.</summary>
[Category("Integration")]
public sealed class HouseholdCancelTests
{
    [Test]
    public async Task A_cancel_before_the_order_was_sent_cancels_it_and_the_retailer_never_sees_it()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        // The dispatcher's first round runs at start, the next one only after a minute: nothing placed after the start
        // is sent until the restart below, whose first round sends what is queued then.
        await using var gateway = await TestGateway.StartAsync([.. retailer.Args("demo-retailer"), "--Pantri:Retail:PollInterval=00:01:00"]);
        using var http = gateway.Http(gateway.Demo.UserAuth);

        var orderRef = await PressAsync(http);
        using var cancel = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });
        var cancelled = await cancel.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options);
        var next = await PressAsync(http);
        await gateway.RestartAsync();
        await WaitForAsync(gateway, next, o => o.State == OrderState.Submitted);

        Assert.That((int)cancel.StatusCode, Is.EqualTo(200));
        Assert.That(cancelled!.State, Is.EqualTo("Cancelled"));
        Assert.That(retailer.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { Key(next) }), "only the next order reached the retailer");
        Assert.That(retailer.Cancels, Is.Empty, "nothing to cancel at a retailer that never had it");
    }

    [Test]
    public async Task A_cancel_after_the_order_was_submitted_is_forwarded_once_signed_and_the_order_is_cancelled_when_the_retailer_accepts()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var orderRef = await PressAsync(http);
        await WaitForAsync(gateway, orderRef, o => o.State == OrderState.Submitted);

        using var cancel = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });
        var requested = await cancel.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options);
        var order = await WaitForAsync(gateway, orderRef, o => o.State == OrderState.Cancelled);
        using var again = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });

        Assert.That((int)cancel.StatusCode, Is.EqualTo(202), "accepted: forwarded to the retailer, not yet answered");
        Assert.That(requested!.State, Is.EqualTo("Submitted"));
        Assert.That(requested.CancelRequestedAt, Is.Not.Null);
        Assert.That(await retailer.QuietAsync(TimeSpan.FromMilliseconds(500)), Is.True);
        var cancels = retailer.Cancels.ToList();
        Assert.That(cancels, Has.Count.EqualTo(1), "exactly one cancel");
        Assert.That(cancels[0].Signed, Is.True, "signed like a submission");
        Assert.That(cancels[0].IdempotencyKey, Is.EqualTo(Key(orderRef) + "-cancel"));
        using (var body = JsonDocument.Parse(cancels[0].Body))
        {
            Assert.That(body.RootElement.GetProperty("OrderRef").GetInt64(), Is.EqualTo(orderRef));
        }

        Assert.That(order.History[^1].Source, Is.EqualTo(OrderSources.Retailer));
        Assert.That(order.CancelRequestedAt, Is.Null);
        Assert.That((int)again.StatusCode, Is.EqualTo(404), "a closed order is not cancelled twice");
        Assert.That(retailer.Requests, Has.Count.EqualTo(1), "the order itself was sent once");
    }

    [Test]
    public async Task A_refused_cancel_leaves_the_order_as_it_is_and_the_household_reads_the_retailers_reason()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        retailer.ThenCancel(LocalRetailer.Status(409, """{"Status":"Refused","Reason":"already shipped"}"""));
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var orderRef = await PressAsync(http);
        await WaitForAsync(gateway, orderRef, o => o.State == OrderState.Submitted);

        using var cancel = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });
        await WaitForAsync(gateway, orderRef, o => o.CancelRefusal is not null);
        var seen = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{orderRef}", ContractJson.Options);

        Assert.That((int)cancel.StatusCode, Is.EqualTo(202));
        Assert.That(seen!.State, Is.EqualTo("Submitted"), "the order stays as it is");
        Assert.That(seen.CancelRefusal, Is.EqualTo("already shipped"));
        Assert.That(seen.CancelRequestedAt, Is.Null, "the request is answered");
        Assert.That(await retailer.QuietAsync(TimeSpan.FromMilliseconds(500)), Is.True);
        Assert.That(retailer.Cancels, Has.Count.EqualTo(1), "a refusal is not retried");
    }

    [Test]
    public async Task A_cancel_recorded_while_the_submission_is_in_flight_is_forwarded_once_the_submission_returns()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        retailer.Then(async http =>
        {
            held.TrySetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            http.Response.StatusCode = 200;
        });
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var orderRef = await PressAsync(http);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var cancel = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });
        var requested = await cancel.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options);
        var cancelsWhileHeld = retailer.Cancels.Count;
        release.SetResult();
        var order = await WaitForAsync(gateway, orderRef, o => o.State == OrderState.Cancelled);

        Assert.That((int)cancel.StatusCode, Is.EqualTo(202), "the retailer may already hold it");
        Assert.That(requested!.State, Is.EqualTo("Placed"));
        Assert.That(cancelsWhileHeld, Is.Zero, "a cancel never overtakes its submission");
        Assert.That(order.History.Select(h => h.State), Is.EqualTo(new[] { OrderState.Placed, OrderState.Submitted, OrderState.Cancelled }));
        Assert.That(retailer.Cancels.Select(c => c.IdempotencyKey), Is.EqualTo(new[] { Key(orderRef) + "-cancel" }));
    }

    [Test]
    public async Task A_gateway_killed_after_committing_a_cancel_but_before_recording_the_retailers_answer_forwards_it_again_after_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pantri-cancel-" + Guid.NewGuid().ToString("N"));
        await using var retailer = await LocalRetailer.StartAsync();
        GatewayProcess? first = null;
        // The retailer gets the forwarded cancel, and the gateway dies before it can record the answer.
        retailer.ThenCancel(async http =>
        {
            first!.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            http.Response.StatusCode = 200;
        });
        long orderRef;
        using (first = await GatewayProcess.StartAsync(dir, retailer.Args("demo-retailer")))
        {
            using var http = new HttpClient { BaseAddress = first.HttpBase };
            http.DefaultRequestHeaders.Add(HttpHeaders.UserAuth, DemoCredentials.Read(dir).UserAuth);
            orderRef = await PressAsync(http);
            await PollAsync(http, orderRef, s => s.State == "Submitted");
            using var cancel = await http.PostAsJsonAsync($"/v1/orders/{orderRef}/state", new { State = "Cancelled" });
            Assert.That((int)cancel.StatusCode, Is.EqualTo(202));
            Assert.That(await first.WaitForExitAsync(TimeSpan.FromSeconds(20)), Is.True, "killed while the retailer held the cancel");
        }

        OrderStatus? after;
        using (var gateway = await GatewayProcess.StartAsync(dir, retailer.Args("demo-retailer")))
        {
            using var http = new HttpClient { BaseAddress = gateway.HttpBase };
            http.DefaultRequestHeaders.Add(HttpHeaders.UserAuth, DemoCredentials.Read(dir).UserAuth);
            after = await PollAsync(http, orderRef, s => s.State == "Cancelled");
            gateway.Kill();
            await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.That(after?.State, Is.EqualTo("Cancelled"), "the cancel committed before the kill was forwarded after the restart");
        Assert.That(retailer.Cancels.Select(c => c.IdempotencyKey), Is.EqualTo(new[] { Key(orderRef) + "-cancel", Key(orderRef) + "-cancel" }),
            "forwarded before the kill and once more after it, under one key");
        Assert.That(retailer.Requests, Has.Count.EqualTo(1), "the order itself was not sent again");
        using (var store = new LiteDbGatewayStore(Path.Combine(dir, "pantri.db")))
        {
            Assert.That(store.FindOrdersAwaitingCancel(10), Is.Empty, "nothing left to forward");
        }

        Directory.Delete(dir, recursive: true);
    }

    private static string Key(long orderRef) => orderRef.ToString(CultureInfo.InvariantCulture);

    private static async Task<long> PressAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.Add(HttpHeaders.InstructionRef, DemoCredentials.ButtonRef.ToString(CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request);
        var ack = (await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!;
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        return ack.OrderRef!.Value;
    }

    private static async Task<Order> WaitForAsync(TestGateway gateway, long orderRef, Func<Order, bool> done)
    {
        var clock = Stopwatch.StartNew();
        var order = gateway.Store.FindOrder(orderRef)!;
        while (clock.Elapsed < TimeSpan.FromSeconds(15) && !done(order))
        {
            await Task.Delay(50);
            order = gateway.Store.FindOrder(orderRef)!;
        }

        Assert.That(done(order), Is.True, $"order {orderRef} is {order.State}");
        return order;
    }

    private static async Task<OrderStatus?> PollAsync(HttpClient http, long orderRef, Func<OrderStatus, bool> done)
    {
        var clock = Stopwatch.StartNew();
        OrderStatus? status = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && (status is null || !done(status)))
        {
            status = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{orderRef}", ContractJson.Options);
            await Task.Delay(100);
        }

        return status;
    }
}
