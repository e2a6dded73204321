using System.Net.Http.Json;
using System.Net;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

public sealed class HttpTriggerTests : GatewayTest
{
    [Test]
    public async Task A_device_key_press_returns_201_with_the_ack_shape()
    {
        using var http = Gateway.Http();

        var response = await Post(http, ("Device_Key", Gateway.Demo.ButtonKey), ("Instruction_Ref", "123456789"));
        var ack = await response.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(ack!.Id, Is.EqualTo(201));
        Assert.That(ack.Status, Is.EqualTo("Done"));
        Assert.That(ack.CommandRef, Is.Positive);
        Assert.That(Gateway.Store.FindOrder(ack.OrderRef!.Value)!.DeviceId, Is.EqualTo(DemoCredentials.Button));
    }

    [Test]
    public async Task A_user_auth_press_returns_201_and_a_second_gets_409_with_status_equal_to_id()
    {
        using var http = Gateway.Http();

        var first = await Post(http, ("User_Auth", "Bearer " + Gateway.Demo.UserAuth), ("Instruction_Ref", "123456789"));
        var second = await Post(http, ("User_Auth", Gateway.Demo.UserAuth), ("Instruction_Ref", "123456789"));
        var firstAck = await first.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options);
        var secondAck = await second.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options);

        Assert.That((int)first.StatusCode, Is.EqualTo(201));
        Assert.That((int)second.StatusCode, Is.EqualTo(409));
        Assert.That(secondAck!.Id, Is.EqualTo(409));
        Assert.That(secondAck.OrderRef, Is.EqualTo(firstAck!.OrderRef));
        Assert.That(Gateway.Store.FindOrder(firstAck.OrderRef!.Value)!.Origin, Is.EqualTo("app"));
    }

    [Test]
    public async Task The_same_request_id_over_http_replays_the_ack()
    {
        using var http = Gateway.Http();

        var first = await (await Post(http, ("Device_Key", Gateway.Demo.ButtonKey), ("Instruction_Ref", "123456789"), ("RequestId", "h1"))).Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options);
        var again = await Post(http, ("Device_Key", Gateway.Demo.ButtonKey), ("Instruction_Ref", "123456789"), ("RequestId", "h1"));

        Assert.That((int)again.StatusCode, Is.EqualTo(201));
        Assert.That((await again.Content.ReadFromJsonAsync<Acknowledgement>(ContractJson.Options))!.CommandRef, Is.EqualTo(first!.CommandRef));
    }

    [TestCase("Device_Key", "wrong-key")]
    [TestCase("User_Auth", "not.a.jwt")]
    public async Task Bad_credentials_get_401_and_no_command(string header, string value)
    {
        using var http = Gateway.Http();

        var response = await Post(http, (header, value), ("Instruction_Ref", "123456789"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Is.Empty);
    }

    [Test]
    public async Task A_non_numeric_instruction_ref_gets_400()
    {
        using var http = Gateway.Http();

        var response = await Post(http, ("Device_Key", Gateway.Demo.ButtonKey), ("Instruction_Ref", "12x"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task The_setup_api_creates_a_device_and_instruction_the_new_device_can_press()
    {
        using var http = Gateway.Http(Gateway.Demo.UserAuth);

        var device = await (await http.PostAsync("/v1/devices", TriggerFlowTests.Json("""{"Name":"Kitchen doser"}"""))).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var key = device.GetProperty("Device_Key").GetString()!;
        var doserId = device.GetProperty("DeviceId").GetString()!;
        var created = await http.PostAsync("/v1/instructions", TriggerFlowTests.Json($$"""{"Product":"Detergent","Retailer":"shop","Quantity":2,"DeviceIds":["{{doserId}}"]}"""));
        var instruction = await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var reference = instruction.GetProperty("Instruction_Ref").GetInt64();
        await using var doser = await Gateway.ConnectAsync(doserId, key);
        var ack = await doser.RequestAsync(DeviceTopicKind.Trigger, "");

        Assert.That((int)created.StatusCode, Is.EqualTo(201));
        Assert.That(ack.Id, Is.EqualTo(201));
        Assert.That(ack.InstructionRef, Is.EqualTo(reference));
        Assert.That(Gateway.Store.FindOrder(ack.OrderRef!.Value)!.Quantity, Is.EqualTo(2));
    }

    [Test]
    public async Task The_setup_api_refuses_requests_without_user_auth()
    {
        using var http = Gateway.Http();

        var response = await http.GetAsync("/v1/orders");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await http.SendAsync(request);
    }
}
