using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Another household's resources answer exactly as unknown ones do, over MQTT, the HTTP trigger and the setup
/// API; only a device's own-household instruction it is not paired with may say so (403).</summary>
[Category("Integration")]
public sealed class ExistenceOracleTests
{
    private TestGateway _gateway = null!;
    private HttpClient _other = null!;
    private long _othersInstruction;
    private string _othersDevice = null!;

    [OneTimeSetUp]
    public async Task StartGatewayWithASecondHousehold()
    {
        _gateway = await TestGateway.StartAsync();
        _other = await HouseholdApi.AsAccountAsync(_gateway, "other-household");
        var device = await _other.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"Other button"}"""));
        Assert.That((int)device.StatusCode, Is.EqualTo(201));
        _othersDevice = (await HouseholdApi.BodyAsync(device)).GetProperty("DeviceId").GetString()!;
        _othersInstruction = await HouseholdApi.CreateInstructionAsync(_other, $$"""{"Product":"Coffee","Retailer":"shop","DeviceIds":["{{_othersDevice}}"]}""");
    }

    [OneTimeTearDown]
    public async Task StopGateway()
    {
        _other.Dispose();
        await _gateway.DisposeAsync();
    }

    [TearDown]
    public void FailOnUnexpectedLoggedErrors() => _gateway.ThrowIfLoggedErrors();

    [Test]
    public async Task Over_mqtt_another_households_instruction_answers_like_an_unknown_one()
    {
        await using var button = await _gateway.ConnectButtonAsync();
        var unknownRef = UnusedRef();

        var foreign = await button.RequestAsync(DeviceTopicKind.Trigger, Ref(_othersInstruction));
        var unknown = await button.RequestAsync(DeviceTopicKind.Trigger, Ref(unknownRef));

        Assert.That(foreign.Id, Is.EqualTo(AckIds.UnknownInstruction));
        Assert.That(Mask(foreign.Status, _othersInstruction), Is.EqualTo(Mask(unknown.Status, unknownRef)));
        Assert.That(unknown.Id, Is.EqualTo(AckIds.UnknownInstruction));
        Assert.That(_gateway.Store.FindOrders("other-household", 10), Is.Empty);
    }

    [Test]
    public async Task A_level_report_on_another_households_instruction_answers_like_an_unknown_one()
    {
        await using var jar = await _gateway.ConnectJarAsync();
        var unknownRef = UnusedRef();

        var foreign = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{_othersInstruction}}, "Level": 1}""");
        var unknown = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{unknownRef}}, "Level": 1}""");

        Assert.That(foreign.Id, Is.EqualTo(AckIds.UnknownInstruction));
        Assert.That(Mask(foreign.Status, _othersInstruction), Is.EqualTo(Mask(unknown.Status, unknownRef)));
    }

    [Test]
    public async Task Over_the_http_trigger_another_households_instruction_answers_like_an_unknown_one()
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);
        var unknownRef = UnusedRef();

        var foreign = await TriggerAsync(http, _othersInstruction);
        var unknown = await TriggerAsync(http, unknownRef);

        Assert.That((int)foreign.StatusCode, Is.EqualTo(404));
        Assert.That((int)unknown.StatusCode, Is.EqualTo(404));
        Assert.That(Mask(await StatusOf(foreign), _othersInstruction), Is.EqualTo(Mask(await StatusOf(unknown), unknownRef)));
    }

    [Test]
    public async Task A_device_of_the_same_household_not_paired_with_the_instruction_still_gets_403()
    {
        await using var button = await _gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, Ref(DemoCredentials.JarRef));

        Assert.That(ack.Id, Is.EqualTo(AckIds.NotPaired));
    }

    [TestCase("PUT", "/v1/instructions/{0}/tracking", """{"ReorderAt":1,"Unit":"count"}""")]
    [TestCase("POST", "/v1/instructions/{0}/devices/demo-button", null)]
    public async Task The_setup_api_answers_another_households_instruction_like_an_unknown_one(string method, string path, string? body)
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);
        var unknownRef = UnusedRef();

        var foreign = await SendAsync(http, method, string.Format(System.Globalization.CultureInfo.InvariantCulture, path, _othersInstruction), body);
        var unknown = await SendAsync(http, method, string.Format(System.Globalization.CultureInfo.InvariantCulture, path, unknownRef), body);

        Assert.That((int)foreign.StatusCode, Is.EqualTo(404));
        Assert.That((int)unknown.StatusCode, Is.EqualTo(404));
        Assert.That(Mask(await foreign.Content.ReadAsStringAsync(), _othersInstruction), Is.EqualTo(Mask(await unknown.Content.ReadAsStringAsync(), unknownRef)));
    }

    [Test]
    public async Task Pairing_another_households_device_answers_like_pairing_an_unknown_device()
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);

        var foreign = await http.PostAsync($"/v1/instructions/{DemoCredentials.ButtonRef}/devices/other-button", null);
        var unknown = await http.PostAsync($"/v1/instructions/{DemoCredentials.ButtonRef}/devices/nobody-has-this", null);

        Assert.That((int)foreign.StatusCode, Is.EqualTo((int)unknown.StatusCode));
        Assert.That(Mask(await foreign.Content.ReadAsStringAsync(), "other-button"), Is.EqualTo(Mask(await unknown.Content.ReadAsStringAsync(), "nobody-has-this")));
    }

    [Test]
    public async Task Creating_an_instruction_with_another_households_device_answers_like_an_unknown_device()
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);

        var foreign = await http.PostAsync("/v1/instructions", HouseholdApi.Json($$"""{"Product":"Tea","Retailer":"shop","DeviceIds":["{{_othersDevice}}"]}"""));
        var unknown = await http.PostAsync("/v1/instructions", HouseholdApi.Json("""{"Product":"Tea","Retailer":"shop","DeviceIds":["nobody-has-this"]}"""));

        Assert.That((int)foreign.StatusCode, Is.EqualTo((int)unknown.StatusCode));
        Assert.That(Mask(await foreign.Content.ReadAsStringAsync(), _othersDevice), Is.EqualTo(Mask(await unknown.Content.ReadAsStringAsync(), "nobody-has-this")));
    }

    /// <summary>Ids are the gateway's to choose: asking for another household's id (or one's own) cannot even be
    /// tried, so "taken" never tells anyone whose it is.</summary>
    [Test]
    public async Task Creating_a_device_never_takes_the_id_the_caller_asks_for()
    {
        using var http = _gateway.Http(_gateway.Demo.UserAuth);

        var others = await http.PostAsync("/v1/devices", HouseholdApi.Json($$"""{"Name":"Probe","DeviceId":"{{_othersDevice}}"}"""));
        var own = await http.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"Probe","DeviceId":"demo-button"}"""));

        Assert.That((int)others.StatusCode, Is.EqualTo(201));
        Assert.That((int)own.StatusCode, Is.EqualTo(201));
        var ids = new[] { (await HouseholdApi.BodyAsync(others)).GetProperty("DeviceId").GetString(), (await HouseholdApi.BodyAsync(own)).GetProperty("DeviceId").GetString() };
        Assert.That(ids, Has.None.EqualTo(_othersDevice).And.None.EqualTo("demo-button"));
        Assert.That(ids, Has.All.Matches<string>(DeviceIds.IsValid));
    }

    private static string Ref(long reference) => reference.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // The caller's own input may be echoed; everything else must be identical.
    private static string Mask(string text, long reference) => Mask(text, Ref(reference));

    private static string Mask(string text, string echoed) => text.Replace(echoed, "<ref>", StringComparison.Ordinal);

    private long UnusedRef()
    {
        // Same number of digits as the foreign ref, so even the text's length says nothing.
        var candidate = _othersInstruction + 1;
        while (candidate == DemoCredentials.ButtonRef || candidate == DemoCredentials.JarRef)
        {
            candidate++;
        }

        return candidate;
    }

    private static async Task<HttpResponseMessage> TriggerAsync(HttpClient http, long reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.TryAddWithoutValidation(HttpHeaders.InstructionRef, Ref(reference));
        return await http.SendAsync(request);
    }

    private static async Task<string> StatusOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Status").GetString()!;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : HouseholdApi.Json(body) };
        return await http.SendAsync(request);
    }
}
