using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>API enums are parsed by exact name: no numbers, no flag combinations, no padding.</summary>
public sealed class ApiEnumParsingTests : SharedGatewayTest
{
    [TestCase("1")]
    [TestCase("3")]
    [TestCase("-1")]
    [TestCase("Cancelled, Delivered")]
    [TestCase("Submitted,Confirmed")]
    [TestCase(" Cancelled")]
    [TestCase("Cancelled ")]
    [TestCase("")]
    [TestCase("Cancelledx")]
    public async Task An_order_state_that_is_not_exactly_a_name_is_a_400_and_the_order_does_not_move(string state)
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var order = await PlaceOrderAsync();

        var response = await http.PostAsync($"/v1/orders/{order}/state", HouseholdApi.Json($$"""{"State":{{System.Text.Json.JsonSerializer.Serialize(state)}}}"""));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Is.EqualTo(new[] { "State" }));
        Assert.That(Gateway.Store.FindOrder(order)!.State, Is.EqualTo(OrderState.Placed));
    }

    [TestCase("Cancelled", OrderState.Cancelled)]
    [TestCase("cancelled", OrderState.Cancelled)]
    [TestCase("CANCELLED", OrderState.Cancelled)]
    public async Task An_exact_name_in_any_case_moves_the_order(string state, OrderState expected)
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var order = await PlaceOrderAsync();

        var response = await http.PostAsync($"/v1/orders/{order}/state", HouseholdApi.Json($$"""{"State":"{{state}}"}"""));

        Assert.That((int)response.StatusCode, Is.EqualTo(200), await response.Content.ReadAsStringAsync());
        Assert.That(Gateway.Store.FindOrder(order)!.State, Is.EqualTo(expected));
    }

    [TestCase("Placed")]
    [TestCase("Submitted")]
    [TestCase("confirmed")]
    [TestCase("Shipped")]
    [TestCase("Rejected")]
    [TestCase("Failed")]
    public async Task A_state_only_the_retailer_reports_is_a_422_naming_the_rule_and_the_order_does_not_move(string state)
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var order = await PlaceOrderAsync();

        var response = await http.PostAsync($"/v1/orders/{order}/state", HouseholdApi.Json($$"""{"State":"{{state}}"}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(422), body);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(body, Does.Contain("a household may only cancel an order (until it ships) or mark it Delivered (once Confirmed or Shipped)"));
        Assert.That(Gateway.Store.FindOrder(order)!.State, Is.EqualTo(OrderState.Placed));
    }

    [Test]
    public async Task Delivered_before_the_retailer_confirmed_is_a_409_naming_the_rule()
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);
        var order = await PlaceOrderAsync();

        var response = await http.PostAsync($"/v1/orders/{order}/state", HouseholdApi.Json("""{"State":"Delivered"}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(409), body);
        Assert.That(body, Does.Contain("once it is Confirmed or Shipped"));
        Assert.That(Gateway.Store.FindOrder(order)!.State, Is.EqualTo(OrderState.Placed));
    }

    // Each case starts from no open order, whatever the case before it did.
    private async Task<long> PlaceOrderAsync()
    {
        using (var http = Gateway.Http(Gateway.Demo.UserAuth))
        {
            foreach (var open in Gateway.Orders(DemoCredentials.ButtonRef).Where(o => o.IsOpen))
            {
                await CloseAsync(http, open.Ref);
            }
        }

        await using var button = await Gateway.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
        return ack.OrderRef!.Value;
    }

    private static async Task CloseAsync(HttpClient http, long order) =>
        await http.PostAsync($"/v1/orders/{order}/state", HouseholdApi.Json("""{"State":"Cancelled"}"""));
}
