using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>Input is validated once, in the domain, whatever the entry: a bad value is a 400 naming the field, never a
/// stored value that breaks the household later, never a writer exception or a reload of every household.</summary>
[Category("Integration")]
public sealed class InputValidationTests
{
    private readonly LogRecorder _log = new();
    private TestGateway _gateway = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartGateway()
    {
        _gateway = await TestGateway.StartAsync(configure: b => b.Services.AddSingleton<ILogEventSink>(_log));
        _http = _gateway.Http(_gateway.Demo.UserAuth);
    }

    [OneTimeTearDown]
    public async Task StopGateway()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    [TearDown]
    public void FailOnUnexpectedLoggedErrors() => _gateway.ThrowIfLoggedErrors();

    [Test]
    public async Task A_non_finite_level_in_a_new_instruction_is_refused_and_the_households_list_keeps_working()
    {
        var before = await HouseholdApi.CountInstructionsAsync(_http);

        var response = await _http.PostAsync("/v1/instructions", HouseholdApi.Json(
            """{"Product":"Flour","Retailer":"shop","Tracking":{"ReorderAt":5,"Unit":"g","Level":1e400}}"""));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Is.EqualTo(new[] { "Tracking.Level" }));
        Assert.That(await HouseholdApi.CountInstructionsAsync(_http), Is.EqualTo(before), "nothing was stored");
    }

    [Test]
    public async Task A_null_device_id_in_a_new_instruction_is_a_400_not_a_writer_failure_and_nothing_is_reloaded()
    {
        _log.Clear();

        var response = await _http.PostAsync("/v1/instructions", HouseholdApi.Json("""{"Product":"Salt","Retailer":"shop","DeviceIds":[null]}"""));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Is.EqualTo(new[] { "DeviceIds[0]" }));
        await using var button = await _gateway.ConnectButtonAsync();
        Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, """{"Instruction_Ref": 1}""")).Id, Is.EqualTo(AckIds.UnknownInstruction),
            "the writer is still deciding commands");
        Assert.That(_log.Count("State reloaded"), Is.Zero, "a bad request must not reload every household's state");
        Assert.That(_log.Events(LogEventLevel.Error), Is.Empty);
    }

    // Every nested field and every list element, by the name the caller used.
    [TestCase("""{"Product":"","Retailer":"shop"}""", "Product")]
    [TestCase("""{"Product":null,"Retailer":"shop"}""", "Product")]
    [TestCase("""{"Retailer":"shop"}""", "Product")]
    [TestCase("""{"Product":"Tea\u0000","Retailer":"shop"}""", "Product")]
    [TestCase("""{"Product":"Tea","Retailer":""}""", "Retailer")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Quantity":0}""", "Quantity")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Quantity":10001}""", "Quantity")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Quantity":"two"}""", "Quantity")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","DeviceIds":null}""", "DeviceIds")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","DeviceIds":["demo-button",null]}""", "DeviceIds[1]")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","DeviceIds":["demo-button\n"]}""", "DeviceIds[0]")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","DeviceIds":[7]}""", "DeviceIds[0]")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":-1}}""", "Tracking.ReorderAt")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":1e400}}""", "Tracking.ReorderAt")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":"five"}}""", "Tracking.ReorderAt")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Unit":""}}""", "Tracking.Unit")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Unit":null}}""", "Tracking.Unit")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Unit":"123456789012345678901234567890123"}}""", "Tracking.Unit")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"UnitsPerPack":-3}}""", "Tracking.UnitsPerPack")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Hysteresis":1e400}}""", "Tracking.Hysteresis")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Debounce":0}}""", "Tracking.Debounce")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Debounce":101}}""", "Tracking.Debounce")]
    [TestCase("""{"Product":"Tea","Retailer":"shop","Tracking":{"ReorderAt":5,"Level":-0.5}}""", "Tracking.Level")]
    public async Task A_bad_field_of_a_new_instruction_is_a_400_naming_it_and_nothing_is_stored(string body, string field)
    {
        var before = await HouseholdApi.CountInstructionsAsync(_http);

        var response = await _http.PostAsync("/v1/instructions", HouseholdApi.Json(body));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Does.Contain(field));
        Assert.That(await HouseholdApi.CountInstructionsAsync(_http), Is.EqualTo(before));
    }

    [Test]
    public async Task Long_strings_and_long_device_lists_are_refused()
    {
        var longProduct = new string('x', 201);
        var manyDevices = string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"device-{i:000}\""));

        var product = await _http.PostAsync("/v1/instructions", HouseholdApi.Json($$"""{"Product":"{{longProduct}}","Retailer":"shop"}"""));
        var devices = await _http.PostAsync("/v1/instructions", HouseholdApi.Json($$"""{"Product":"Tea","Retailer":"shop","DeviceIds":[{{manyDevices}}]}"""));

        Assert.That((int)product.StatusCode, Is.EqualTo(400));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(product), Is.EqualTo(new[] { "Product" }));
        Assert.That((int)devices.StatusCode, Is.EqualTo(400));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(devices), Is.EqualTo(new[] { "DeviceIds" }));
    }

    [TestCase("""{"ReorderAt":1e400}""", "ReorderAt")]
    [TestCase("""{"ReorderAt":5,"Unit":""}""", "Unit")]
    [TestCase("""{"ReorderAt":5,"Debounce":0}""", "Debounce")]
    [TestCase("""{"ReorderAt":5,"Level":1e400}""", "Level")]
    [TestCase("""{"ReorderAt":5,"Hysteresis":"wide"}""", "Hysteresis")]
    [TestCase("""null""", "body")]
    [TestCase("""[5]""", "body")]
    public async Task Changing_tracking_validates_the_same_fields_the_same_way(string body, string field)
    {
        var response = await _http.PutAsync($"/v1/instructions/{DemoCredentials.JarRef}/tracking", HouseholdApi.Json(body));

        Assert.That((int)response.StatusCode, Is.EqualTo(400), await response.Content.ReadAsStringAsync());
        Assert.That(await HouseholdApi.ErrorFieldsAsync(response), Does.Contain(field));
    }

    [Test]
    public async Task A_valid_instruction_with_tracking_is_still_created()
    {
        var reference = await HouseholdApi.CreateInstructionAsync(_http,
            """{"Product":"Rice","Retailer":"shop","Quantity":2,"DeviceIds":["demo-jar"],"Tracking":{"ReorderAt":500,"Unit":"g","UnitsPerPack":1000,"Hysteresis":50,"Debounce":2,"Level":800}}""");

        Assert.That(reference, Is.Positive);
    }

    [Test]
    public async Task A_non_finite_level_over_mqtt_is_a_400_ack_and_the_level_is_unchanged()
    {
        await using var jar = await _gateway.ConnectJarAsync();

        var ack = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref": 987654321, "Level": 1e400}""");
        var after = await jar.RequestAsync(DeviceTopicKind.Usage, """{"Instruction_Ref": 987654321, "Used": 0}""");

        Assert.That(ack.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(after.Level, Is.Not.Null.And.Not.EqualTo(double.PositiveInfinity));
    }
}
