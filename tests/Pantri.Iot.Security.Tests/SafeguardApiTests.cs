using System.Net;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>The safeguard calls are a household's own: another household cannot answer, cancel or read its orders and
/// settings, and hostile amounts are a 400 naming the field, never a stored value or a writer exception.</summary>
[Category("Integration")]
public sealed class SafeguardApiTests
{
    private TestGateway _gateway = null!;

    [OneTimeSetUp]
    public async Task StartGateway() => _gateway = await TestGateway.StartAsync();

    [OneTimeTearDown]
    public async Task StopGateway() => await _gateway.DisposeAsync();

    [Test]
    public async Task Another_household_can_neither_approve_decline_nor_cancel_an_order_awaiting_approval()
    {
        using var demo = _gateway.Http(_gateway.Demo.UserAuth);
        using var other = await HouseholdApi.AsAccountAsync(_gateway, "other-household");
        using (var put = await demo.PutAsync("/v1/instructions/123456789/safeguards", HouseholdApi.Json("""{"ApprovalRequired":true}""")))
        {
            Assert.That(put.IsSuccessStatusCode, Is.True);
        }

        await using var button = await _gateway.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");
        try
        {
            using var approve = await other.PostAsync($"/v1/orders/{ack.OrderRef}/approve", null);
            using var decline = await other.PostAsync($"/v1/orders/{ack.OrderRef}/decline", null);
            using var cancel = await other.PostAsync($"/v1/orders/{ack.OrderRef}/state", HouseholdApi.Json("""{"State":"Cancelled"}"""));
            using var unknown = await other.PostAsync("/v1/orders/999999/approve", null);

            Assert.That(ack.Id, Is.EqualTo(AckIds.AwaitingApproval));
            Assert.That((approve.StatusCode, decline.StatusCode, cancel.StatusCode), Is.EqualTo((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound)));
            Assert.That(await approve.Content.ReadAsStringAsync(), Is.EqualTo(await unknown.Content.ReadAsStringAsync()), "answered exactly as an order that does not exist");
            Assert.That(_gateway.Store.FindOrder(ack.OrderRef!.Value)!.State, Is.EqualTo(OrderState.AwaitingApproval));
        }
        finally
        {
            await demo.PostAsync($"/v1/orders/{ack.OrderRef}/decline", null);
            await demo.PutAsync("/v1/instructions/123456789/safeguards", HouseholdApi.Json("{}"));
        }
    }

    [Test]
    public async Task Another_household_reads_its_own_safeguards_and_cannot_set_an_instruction_it_does_not_own()
    {
        using var demo = _gateway.Http(_gateway.Demo.UserAuth);
        using var other = await HouseholdApi.AsAccountAsync(_gateway, "other-household-2");
        using (await demo.PutAsync("/v1/safeguards", HouseholdApi.Json("""{"MonthlySpendLimit":60.00}""")))
        {
        }

        var seen = await HouseholdApi.BodyAsync(await other.GetAsync("/v1/safeguards"));
        using var foreign = await other.PutAsync("/v1/instructions/123456789/safeguards", HouseholdApi.Json("""{"MaxUnitPrice":0}"""));
        using var fallbacks = await other.PutAsync("/v1/instructions/123456789/retailers", HouseholdApi.Json("""{"Fallbacks":[]}"""));
        using (await demo.PutAsync("/v1/safeguards", HouseholdApi.Json("{}")))
        {
        }

        Assert.That(seen.TryGetProperty("MonthlySpendLimit", out var limit) ? limit.ValueKind : System.Text.Json.JsonValueKind.Undefined, Is.Not.EqualTo(System.Text.Json.JsonValueKind.Number), "not the demo household's limit");
        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(fallbacks.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [TestCase("/v1/safeguards", """{"MonthlySpendLimit":1e400}""", "MonthlySpendLimit")]
    [TestCase("/v1/safeguards", """{"MonthlySpendLimit":"60 EUR"}""", "MonthlySpendLimit")]
    [TestCase("/v1/safeguards", """{"MonthlySpendLimit":79228162514264337593543950336}""", "MonthlySpendLimit")]
    [TestCase("/v1/safeguards", """{"MonthlySpendLimit":0.001}""", "MonthlySpendLimit")]
    [TestCase("/v1/safeguards", """{"Currency":"E\u0000R"}""", "Currency")]
    [TestCase("/v1/safeguards", """{"PausedUntil":"9999-12-31T23:59:59Z"}""", "PausedUntil")]
    [TestCase("/v1/safeguards", """{"PausedUntil":"tomorrow"}""", "PausedUntil")]
    [TestCase("/v1/instructions/123456789/safeguards", """{"MaxUnitPrice":-1}""", "MaxUnitPrice")]
    [TestCase("/v1/instructions/123456789/safeguards", """{"ApprovalRequired":"yes"}""", "ApprovalRequired")]
    [TestCase("/v1/instructions/123456789/retailers", """{"Fallbacks":[null]}""", "Fallbacks[0]")]
    [TestCase("/v1/instructions/123456789/retailers", """{"Fallbacks":[{"Retailer":"shop\nb","Product":"x"}]}""", "Fallbacks[0].Retailer")]
    public async Task A_hostile_value_is_a_400_naming_the_field_and_nothing_changes(string path, string body, string field)
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);
        var before = await (await http.GetAsync("/v1/safeguards")).Content.ReadAsStringAsync();

        using var response = await http.PutAsync(path, HouseholdApi.Json(body));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Is.EqualTo(new[] { field }));
        Assert.That(await (await http.GetAsync("/v1/safeguards")).Content.ReadAsStringAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task The_event_stream_needs_a_user_token_and_a_device_key_is_not_one()
    {
        using var anonymous = _gateway.Http();
        using var response = await anonymous.GetAsync("/v1/events", HttpCompletionOption.ResponseHeadersRead);
        using var asDevice = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        asDevice.Headers.Add(HttpHeaders.DeviceKey, _gateway.Demo.ButtonKey);
        using var device = await anonymous.SendAsync(asDevice, HttpCompletionOption.ResponseHeadersRead);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(device.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
