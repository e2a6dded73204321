using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

/// <summary>Retailer fallback: an order moves to the next retailer only when the one before definitely rejected it,
/// and each retailer sees its own idempotency key.</summary>
[Category("Integration")]
public sealed class RetailerFallbackTests
{
    private const string Button = "123456789";

    [Test]
    public async Task A_rejection_by_the_first_retailer_sends_the_order_once_to_the_second_with_its_own_key_and_product()
    {
        await using var first = await LocalRetailer.StartAsync();
        await using var second = await LocalRetailer.StartAsync();
        first.Then(LocalRetailer.Status(400, """{"Status":"Rejected","Reason":"out of stock"}"""));
        await using var gateway = await TestGateway.StartAsync([.. first.Args("demo-retailer"), .. second.Args("shop-b")]);
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await SetFallbackAsync(http);
        await using var button = await gateway.ConnectButtonAsync();
        await button.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders));

        var pressed = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var order = await WaitForAsync(gateway, pressed.OrderRef!.Value, o => o.State == OrderState.Submitted);
        var seen = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{pressed.OrderRef}", ContractJson.Options);
        var deviceHeard = await button.NextMessageAsync(m => System.Text.Encoding.UTF8.GetString(m.Payload.ToArray()) is var p && p.Contains("\"Submitted\"", StringComparison.Ordinal) && p.Contains("shop-b", StringComparison.Ordinal), TestDevice.AckTimeout);

        var key = pressed.OrderRef.Value.ToString(CultureInfo.InvariantCulture);
        Assert.That(await second.QuietAsync(TimeSpan.FromMilliseconds(500)), Is.True);
        Assert.That(first.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { key }), "the first retailer was asked once: a rejection is not retried");
        Assert.That(second.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { key + "-1" }), "exactly one order at the second, under its own key");
        using (var body = JsonDocument.Parse(second.Requests.Single().Body))
        {
            Assert.That(body.RootElement.GetProperty("Retailer").GetString(), Is.EqualTo("shop-b"));
            Assert.That(body.RootElement.GetProperty("Product").GetString(), Is.EqualTo("B-TABLETS-40"));
            Assert.That(body.RootElement.GetProperty("OrderRef").GetInt64(), Is.EqualTo(pressed.OrderRef));
        }

        Assert.That(order.History.Select(h => (h.State, h.By)), Is.EqualTo(new[]
        {
            (OrderState.Placed, DemoCredentials.Button), (OrderState.Rejected, "demo-retailer"), (OrderState.Placed, "gateway"), (OrderState.Submitted, "shop-b"),
        }));
        Assert.That(order.History[1].Reason, Is.EqualTo("out of stock"));
        Assert.That(seen!.Retailer, Is.EqualTo("shop-b"), "the household sees which retailer took it");
        Assert.That(deviceHeard, Is.Not.Null, "and so does the device");
    }

    [Test]
    public async Task A_first_retailer_that_times_out_and_later_accepts_keeps_the_order_and_the_second_never_receives_it()
    {
        await using var first = await LocalRetailer.StartAsync();
        await using var second = await LocalRetailer.StartAsync();
        // Longer than the 1.5 s attempt timeout: the gateway gives up on the attempt and retries, which is accepted.
        first.Then(LocalRetailer.Stall(TimeSpan.FromSeconds(4)));
        await using var gateway = await TestGateway.StartAsync([.. first.Args("demo-retailer"), .. second.Args("shop-b")]);
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await SetFallbackAsync(http);
        await using var button = await gateway.ConnectButtonAsync();

        var pressed = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var order = await WaitForAsync(gateway, pressed.OrderRef!.Value, o => o.State == OrderState.Submitted);

        Assert.That(first.Requests, Has.Count.EqualTo(2), "timed out, then accepted");
        Assert.That(first.Requests.Select(r => r.IdempotencyKey).Distinct().Count(), Is.EqualTo(1));
        Assert.That(order.Retailer, Is.EqualTo("demo-retailer"));
        Assert.That(await second.QuietAsync(TimeSpan.FromMilliseconds(700)), Is.True);
        Assert.That(second.Requests, Is.Empty, "no fallback without a definite rejection");
    }

    [Test]
    public async Task Fallbacks_are_validated_naming_the_field()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);

        using var own = await http.PutAsJsonAsync($"/v1/instructions/{Button}/retailers", new { Fallbacks = new[] { new { Retailer = "demo-retailer", Product = "x" } } });
        using var blank = await http.PutAsJsonAsync($"/v1/instructions/{Button}/retailers", new { Fallbacks = new[] { new { Retailer = "shop-b", Product = " " } } });
        using var many = await http.PutAsJsonAsync($"/v1/instructions/{Button}/retailers", new { Fallbacks = Enumerable.Range(0, 5).Select(i => new { Retailer = "shop-" + i, Product = "p" }) });

        Assert.That(await FieldAsync(own), Is.EqualTo("Fallbacks[0].Retailer"));
        Assert.That(await FieldAsync(blank), Is.EqualTo("Fallbacks[0].Product"));
        Assert.That(await FieldAsync(many), Is.EqualTo("Fallbacks"));
    }

    private static async Task<string?> FieldAsync(HttpResponseMessage response)
    {
        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.GetProperty("errors").EnumerateObject().Single().Name;
    }

    private static async Task SetFallbackAsync(HttpClient http)
    {
        using var response = await http.PutAsJsonAsync($"/v1/instructions/{Button}/retailers", new { Fallbacks = new[] { new { Retailer = "shop-b", Product = "B-TABLETS-40" } } });
        Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
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
}
