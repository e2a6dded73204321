using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Tests.Telemetry;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

[Category("Integration")]
public sealed class WebhookConnectorTests
{
    [Test]
    public async Task Resets_500_429_with_retry_after_and_timeouts_are_retried_under_one_idempotency_key_and_the_order_is_submitted_once()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        retailer.Then(LocalRetailer.Reset, LocalRetailer.Status(500), LocalRetailer.Status(429, retryAfter: "1"), LocalRetailer.Stall(TimeSpan.FromSeconds(6)));
        await using var gateway = await TestGateway.StartAsync([.. retailer.Args("demo-retailer"), "--Pantri:Retailers:demo-retailer:BreakerMinimumThroughput=50"]);

        var orderRef = await PressAsync(gateway);
        var order = await WaitForStateAsync(gateway, orderRef, OrderState.Submitted);

        var requests = retailer.Requests.ToList();
        Assert.That(order.State, Is.EqualTo(OrderState.Submitted));
        Assert.That(requests, Has.Count.EqualTo(5), "four failed attempts, then the one that succeeded");
        Assert.That(requests.Select(r => r.IdempotencyKey), Is.All.EqualTo(orderRef.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(requests.Select(r => r.Signed), Is.All.True, "every attempt carries a valid signature");
        Assert.That(requests.Select(r => r.Body).Distinct().Count(), Is.EqualTo(1), "every attempt sends the same order");
        Assert.That(requests[3].At - requests[2].At, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900)), "Retry-After: 1 was honoured");
        using var body = JsonDocument.Parse(requests[0].Body);
        Assert.That(body.RootElement.GetProperty("OrderRef").GetInt64(), Is.EqualTo(orderRef));
        Assert.That(body.RootElement.GetProperty("Instruction_Ref").GetInt64(), Is.EqualTo(DemoCredentials.ButtonRef));
        Assert.That(body.RootElement.GetProperty("Quantity").GetInt32(), Is.EqualTo(1));
        Assert.That(await retailer.QuietAsync(TimeSpan.FromMilliseconds(500)), Is.True, "nothing is sent again once submitted");
        using var metricsHttp = gateway.Http();
        var metrics = await PrometheusScrape.ReadAsync(metricsHttp);
        Assert.That(metrics.Sum("pantri_retail_retries_total", ("pantri_retailer", "demo-retailer")), Is.EqualTo(4), metrics.Text);
        Assert.That(metrics.Sum("pantri_retail_submissions_total", ("pantri_retailer", "demo-retailer"), ("pantri_outcome", "submitted")), Is.EqualTo(1), metrics.Text);
        Assert.That(metrics.Sum("pantri_retail_circuit_state", ("pantri_retailer", "demo-retailer")), Is.Zero, "the circuit stayed closed");
    }

    [Test]
    public async Task A_permanent_refusal_is_not_retried_the_order_is_rejected_with_the_retailers_reason_and_the_button_orders_again()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        retailer.Then(LocalRetailer.Status(400, """{"Status":"Rejected","Reason":"out of stock"}"""));
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));

        var orderRef = await PressAsync(gateway);
        var order = await WaitForStateAsync(gateway, orderRef, OrderState.Rejected);
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var seen = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{orderRef}", ContractJson.Options);
        var again = await PressAsync(gateway);
        await WaitForStateAsync(gateway, again, OrderState.Submitted);

        Assert.That(retailer.Requests, Has.Count.EqualTo(2), "one attempt for the refused order, one for the next");
        Assert.That(order.History[^1].Reason, Is.EqualTo("out of stock"));
        Assert.That(seen!.State, Is.EqualTo("Rejected"));
        Assert.That(seen.Reason, Is.EqualTo("out of stock"), "the household sees why");
        Assert.That(seen.Source, Is.EqualTo(OrderSources.Retailer));
        Assert.That(seen.History!.Select(h => (h.State, h.Source)), Is.EqualTo(new[] { ("Placed", OrderSources.Gateway), ("Rejected", OrderSources.Retailer) }),
            "the app reads the transition history");
        Assert.That(again, Is.Not.EqualTo(orderRef));
    }

    [Test]
    public async Task A_dead_retailer_opens_its_circuit_and_fails_its_order_after_the_deadline_while_another_retailers_orders_keep_flowing()
    {
        await using var alive = await LocalRetailer.StartAsync();
        var deadPort = ClosedPort();
        await using var gateway = await TestGateway.StartAsync(
        [
            .. alive.Args("shop-b"),
            "--Pantri:Retailers:demo-retailer:Kind=Webhook",
            $"--Pantri:Retailers:demo-retailer:Url=http://127.0.0.1:{deadPort}/orders",
            $"--Pantri:Retailers:demo-retailer:Secret={LocalRetailer.Secret}",
            "--Pantri:Retailers:demo-retailer:RetryDelay=00:00:00.050",
            "--Pantri:Retailers:demo-retailer:MaxRetries=3",
            "--Pantri:Retailers:demo-retailer:BreakerMinimumThroughput=2",
            "--Pantri:Retailers:demo-retailer:Deadline=00:00:03",
        ]);
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var created = await http.PostAsJsonAsync("/v1/instructions", new { Product = "Coffee", Retailer = "shop-b", Quantity = 2 });
        var shopB = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64();

        var deadOrder = await PressAsync(gateway);
        var aliveOrder = await TriggerAsync(http, shopB);
        var flowing = await WaitForStateAsync(gateway, aliveOrder, OrderState.Submitted);
        var stillWaiting = gateway.Store.FindOrder(deadOrder)!.State;
        var failed = await WaitForStateAsync(gateway, deadOrder, OrderState.Failed);

        Assert.That(flowing.State, Is.EqualTo(OrderState.Submitted), "the other retailer's order went through");
        Assert.That(stillWaiting, Is.EqualTo(OrderState.Placed), "the dead retailer's order waited, queued");
        Assert.That(failed.History[^1].Source, Is.EqualTo(OrderSources.Gateway));
        Assert.That(failed.History[^1].Reason, Does.Contain("could not be reached"));
        Assert.That(alive.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { aliveOrder.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        using var metricsHttp = gateway.Http();
        var metrics = await PrometheusScrape.ReadAsync(metricsHttp);
        Assert.That(metrics.Sum("pantri_retail_circuit_state", ("pantri_retailer", "demo-retailer")), Is.Not.Zero, "the dead retailer's circuit is open (1) or probing (2): " + metrics.Text);
        Assert.That(metrics.Sum("pantri_retail_circuit_state", ("pantri_retailer", "shop-b")), Is.Zero, "the live retailer's circuit is closed");
        Assert.That(metrics.Sum("pantri_retail_submissions_total", ("pantri_retailer", "demo-retailer"), ("pantri_outcome", "unavailable")), Is.GreaterThanOrEqualTo(1), metrics.Text);
    }

    [Test]
    public async Task A_retailer_that_cannot_be_reached_is_tried_less_and_less_often_instead_of_every_poll()
    {
        var deadPort = ClosedPort();
        await using var gateway = await TestGateway.StartAsync(
        [
            "--Pantri:Retail:Enabled=true",
            "--Pantri:Retailers:demo-retailer:Kind=Webhook",
            $"--Pantri:Retailers:demo-retailer:Url=http://127.0.0.1:{deadPort}/orders",
            $"--Pantri:Retailers:demo-retailer:Secret={LocalRetailer.Secret}",
            "--Pantri:Retailers:demo-retailer:MaxRetries=0",
            "--Pantri:Retailers:demo-retailer:BreakerMinimumThroughput=2",
        ]);
        var orderRef = await PressAsync(gateway);

        // Polled every 250 ms, a refused connection would be tried (and logged) about 16 times in 4 s; waiting
        // 0.25, 0.5, 1, 2 s between attempts makes it about 5.
        await Task.Delay(TimeSpan.FromSeconds(4));

        using var metricsHttp = gateway.Http();
        var metrics = await PrometheusScrape.ReadAsync(metricsHttp);
        var attempts = metrics.Sum("pantri_retail_submissions_total", ("pantri_retailer", "demo-retailer"), ("pantri_outcome", "unavailable"));
        Assert.That(attempts, Is.InRange(2, 8), metrics.Text);
        Assert.That(gateway.Store.FindOrder(orderRef)!.State, Is.EqualTo(OrderState.Placed), "the order stays queued for the next attempt");
    }

    private static async Task<long> PressAsync(TestGateway gateway)
    {
        using var http = gateway.Http(gateway.Demo.UserAuth);
        return await TriggerAsync(http, DemoCredentials.ButtonRef);
    }

    private static async Task<long> TriggerAsync(HttpClient http, long instructionRef)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.Add(HttpHeaders.InstructionRef, instructionRef.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request);
        var ack = (await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!;
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        return ack.OrderRef!.Value;
    }

    private static async Task<Order> WaitForStateAsync(TestGateway gateway, long orderRef, OrderState state)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (gateway.Store.FindOrder(orderRef) is { } order && order.State == state)
            {
                return order;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"order {orderRef} did not become {state} within 20 s (it is {gateway.Store.FindOrder(orderRef)?.State})");
        return null!;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
