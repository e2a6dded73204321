using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Retail;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

[Category("Integration")]
public sealed class RetailerCallbackTests
{
    private const string OtherSecret = "another-retailers-secret-987654";
    private LocalRetailer _retailer = null!;
    private TestGateway _gateway = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _retailer = await LocalRetailer.StartAsync();
        _gateway = await TestGateway.StartAsync(
        [
            .. _retailer.Args("demo-retailer"),
            "--Pantri:Retailers:shop-b:Kind=Webhook",
            $"--Pantri:Retailers:shop-b:Url={_retailer.Url}",
            $"--Pantri:Retailers:shop-b:Secret={OtherSecret}",
        ]);
        _http = _gateway.Http();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _retailer.DisposeAsync();
    }

    [Test]
    public async Task A_signed_status_moves_the_order_a_replay_or_an_older_state_changes_nothing_and_an_illegal_move_is_a_409_problem()
    {
        var orderRef = await SubmittedOrderAsync();

        using var shipped = await CallbackAsync("demo-retailer", orderRef, """{"State":"Shipped","Reason":"parcel 42"}""");
        var afterShipped = _gateway.Store.FindOrder(orderRef)!.History.Count;
        using var replay = await CallbackAsync("demo-retailer", orderRef, """{"State":"Shipped","Reason":"parcel 42"}""");
        using var illegal = await CallbackAsync("demo-retailer", orderRef, """{"State":"Confirmed"}""");
        using var cancel = await CallbackAsync("demo-retailer", orderRef, """{"State":"Cancelled"}""");
        using var delivered = await CallbackAsync("demo-retailer", orderRef, """{"State":"Delivered"}""");
        using var lateShipped = await CallbackAsync("demo-retailer", orderRef, """{"State":"Shipped"}""");

        Assert.That((int)shipped.StatusCode, Is.EqualTo(200), await shipped.Content.ReadAsStringAsync());
        Assert.That((await shipped.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options))!.Reason, Is.EqualTo("parcel 42"));
        Assert.That((int)replay.StatusCode, Is.EqualTo(200), "the same callback twice is answered, not refused");
        Assert.That((int)illegal.StatusCode, Is.EqualTo(409));
        Assert.That(illegal.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((int)cancel.StatusCode, Is.EqualTo(409), "a shipped order cannot be cancelled");
        Assert.That((int)delivered.StatusCode, Is.EqualTo(200));
        Assert.That((int)lateShipped.StatusCode, Is.EqualTo(200), "a late report of a state already passed is answered and changes nothing");
        var history = _gateway.Store.FindOrder(orderRef)!.History;
        Assert.That(history.Select(h => h.State), Is.EqualTo(new[] { OrderState.Placed, OrderState.Submitted, OrderState.Shipped, OrderState.Delivered }));
        Assert.That(afterShipped, Is.EqualTo(3));
    }

    [Test]
    public async Task A_wrong_signature_or_a_stale_timestamp_is_a_401_and_another_retailers_order_is_a_404()
    {
        var orderRef = await SubmittedOrderAsync();
        var body = """{"State":"Shipped"}""";

        using var wrongSecret = await CallbackAsync("demo-retailer", orderRef, body, secret: OtherSecret);
        using var stale = await CallbackAsync("demo-retailer", orderRef, body, at: DateTimeOffset.UtcNow.AddMinutes(-10));
        using var unsigned = await _http.PostAsync($"/v1/retailers/demo-retailer/orders/{orderRef}/status", new StringContent(body, Encoding.UTF8, "application/json"));
        using var otherRetailer = await CallbackAsync("shop-b", orderRef, body, secret: OtherSecret);

        Assert.That((int)wrongSecret.StatusCode, Is.EqualTo(401));
        Assert.That((int)stale.StatusCode, Is.EqualTo(401));
        Assert.That((int)unsigned.StatusCode, Is.EqualTo(401));
        Assert.That((int)otherRetailer.StatusCode, Is.EqualTo(404));
        Assert.That(_gateway.Store.FindOrder(orderRef)!.State, Is.EqualTo(OrderState.Submitted), "none of them moved the order");
        using var cancelled = await CallbackAsync("demo-retailer", orderRef, """{"State":"Cancelled","Reason":"test over"}""");
        Assert.That((int)cancelled.StatusCode, Is.EqualTo(200));
    }

    [TestCase("""{"State":"Confirmed","UnitPrice":"cheap"}""")]
    [TestCase("""{"State":"Confirmed","UnitPrice":-1}""")]
    [TestCase("""{"State":"Confirmed","UnitPrice":1e400}""")]
    [TestCase("""{"State":"Confirmed","UnitPrice":1.00001}""")]
    [TestCase("""{"State":"Confirmed","UnitPrice":4.2,"Currency":"euro"}""")]
    public async Task An_unusable_quote_is_a_400_naming_UnitPrice_and_the_order_does_not_move(string body)
    {
        var orderRef = await SubmittedOrderAsync();

        using var response = await CallbackAsync("demo-retailer", orderRef, body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(400), text);
        Assert.That(text, Does.Contain("UnitPrice"));
        Assert.That(_gateway.Store.FindOrder(orderRef)!.State, Is.EqualTo(OrderState.Submitted));
        using var close = await CallbackAsync("demo-retailer", orderRef, """{"State":"Rejected"}""");
    }

    [Test]
    public async Task A_confirmation_with_a_quote_records_the_price_exactly()
    {
        var orderRef = await SubmittedOrderAsync();

        using var response = await CallbackAsync("demo-retailer", orderRef, """{"State":"Confirmed","UnitPrice":4.1999,"Currency":"EUR"}""");
        var status = await response.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options);

        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(status!.UnitPrice, Is.EqualTo(4.1999m), "a decimal, never rounded through floating point");
        Assert.That(_gateway.Store.FindOrder(orderRef)!.UnitPrice, Is.EqualTo(4.1999m), "and stored so");
        using var close = await CallbackAsync("demo-retailer", orderRef, """{"State":"Rejected"}""");
    }

    private async Task<HttpResponseMessage> CallbackAsync(string retailer, long orderRef, string body, string secret = LocalRetailer.Secret, DateTimeOffset? at = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/retailers/{retailer}/orders/{orderRef}/status")
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secret, at ?? DateTimeOffset.UtcNow, bytes));
        return await _http.SendAsync(request);
    }

    private async Task<long> SubmittedOrderAsync()
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.Add(HttpHeaders.InstructionRef, "123456789");
        using var response = await http.SendAsync(request);
        var ack = (await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!;
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && _gateway.Store.FindOrder(ack.OrderRef!.Value)!.State != OrderState.Submitted)
        {
            await Task.Delay(50);
        }

        Assert.That(_gateway.Store.FindOrder(ack.OrderRef!.Value)!.State, Is.EqualTo(OrderState.Submitted));
        return ack.OrderRef!.Value;
    }
}
