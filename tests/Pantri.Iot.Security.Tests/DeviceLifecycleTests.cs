using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>A device's key works until the household rotates or revokes it, and not a moment longer: the live MQTT
/// session that logged in with it is closed within a second, and neither MQTT nor HTTP accept the old key again.
/// Revoking keeps the device's orders.</summary>
public sealed class DeviceLifecycleTests : SharedGatewayTest
{
    [Test]
    public async Task Rotating_a_key_closes_the_live_session_and_only_the_new_key_works()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "rotating-household");
        var (deviceId, oldKey, instructionRef) = await CreatePairedDeviceAsync(http);
        await using var device = await Gateway.ConnectAsync(deviceId, oldKey);
        var disconnected = Disconnection(device.Client);

        var clock = Stopwatch.StartNew();
        var rotated = await http.PostAsync($"/v1/devices/{deviceId}/rotate-key", null);
        var gone = await Task.WhenAny(disconnected, Task.Delay(TimeSpan.FromSeconds(5))) == disconnected;
        var elapsed = clock.Elapsed;
        var newKey = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(FieldNames.DeviceKey).GetString()!;
        TestContext.Out.WriteLine($"rotate-key answered and the live session closed after {elapsed.TotalMilliseconds:F0} ms");

        Assert.That(rotated.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(gone, Is.True, "the session that used the old key was closed");
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, deviceId, deviceId, oldKey)), Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
        Assert.That(await TriggerStatusAsync(oldKey, instructionRef), Is.EqualTo(HttpStatusCode.Unauthorized));
        await using var renewed = await Gateway.ConnectAsync(deviceId, newKey);
        Assert.That((await renewed.RequestAsync(DeviceTopicKind.Trigger, "")).Id, Is.EqualTo(201), "the new key works");
    }

    [Test]
    public async Task A_revoked_device_is_disconnected_refused_everywhere_and_its_orders_stay()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "revoking-household");
        var (deviceId, key, instructionRef) = await CreatePairedDeviceAsync(http);
        await using var device = await Gateway.ConnectAsync(deviceId, key);
        var order = (await device.RequestAsync(DeviceTopicKind.Trigger, "")).OrderRef!.Value;
        var disconnected = Disconnection(device.Client);

        var clock = Stopwatch.StartNew();
        var revoked = await http.DeleteAsync($"/v1/devices/{deviceId}");
        var gone = await Task.WhenAny(disconnected, Task.Delay(TimeSpan.FromSeconds(5))) == disconnected;
        var elapsed = clock.Elapsed;
        TestContext.Out.WriteLine($"revoke answered and the live session closed after {elapsed.TotalMilliseconds:F0} ms");

        Assert.That(revoked.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(gone, Is.True, "the revoked device's session was closed");
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, deviceId, deviceId, key)), Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
        Assert.That(await TriggerStatusAsync(key, instructionRef), Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await http.GetAsync($"/v1/devices/{deviceId}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "it is gone from the household's devices");
        var history = await http.GetAsync($"/v1/orders/{order}");
        Assert.That(history.StatusCode, Is.EqualTo(HttpStatusCode.OK), "its order is still there");
        Assert.That((await history.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(FieldNames.InstructionRef).GetInt64(), Is.EqualTo(instructionRef));
    }

    [Test]
    public async Task Deleting_an_instruction_keeps_its_orders()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "forgetful-household");
        var (deviceId, key, instructionRef) = await CreatePairedDeviceAsync(http);
        await using var device = await Gateway.ConnectAsync(deviceId, key);
        var order = (await device.RequestAsync(DeviceTopicKind.Trigger, "")).OrderRef!.Value;

        var deleted = await http.DeleteAsync($"/v1/instructions/{instructionRef}");

        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await http.GetAsync($"/v1/instructions/{instructionRef}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await device.RequestAsync(DeviceTopicKind.Trigger, instructionRef.ToString(System.Globalization.CultureInfo.InvariantCulture))).Id, Is.EqualTo(404));
        var orders = await http.GetFromJsonAsync<JsonElement>("/v1/orders");
        Assert.That(orders.EnumerateArray().Select(o => o.GetProperty("OrderRef").GetInt64()), Does.Contain(order));
    }

    [Test]
    public async Task Changing_an_instructions_retailer_changes_the_next_order_without_touching_the_device()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "switching-household");
        var (deviceId, key, instructionRef) = await CreatePairedDeviceAsync(http);
        await using var device = await Gateway.ConnectAsync(deviceId, key);
        var first = (await device.RequestAsync(DeviceTopicKind.Trigger, "")).OrderRef!.Value;
        await http.PostAsync($"/v1/orders/{first}/state", HouseholdApi.Json("""{"State":"Cancelled"}"""));

        var updated = await http.PatchAsync($"/v1/instructions/{instructionRef}", HouseholdApi.Json("""{"Retailer":"other-shop","Quantity":3}"""));
        var second = (await device.RequestAsync(DeviceTopicKind.Trigger, "")).OrderRef!.Value;

        Assert.That(updated.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Gateway.Store.FindOrder(first)!.Retailer, Is.EqualTo("shop"));
        Assert.That(Gateway.Store.FindOrder(second)!.Retailer, Is.EqualTo("other-shop"));
        Assert.That(Gateway.Store.FindOrder(second)!.Quantity, Is.EqualTo(3));
        var cancelled = await http.GetFromJsonAsync<JsonElement>($"/v1/orders?state=Cancelled&instructionRef={instructionRef}");
        var placed = await http.GetFromJsonAsync<JsonElement>($"/v1/orders?state=placed&deviceId={deviceId}&limit=1");
        Assert.That(cancelled.EnumerateArray().Select(o => o.GetProperty("OrderRef").GetInt64()), Is.EqualTo(new[] { first }), "filtered by state and instruction");
        Assert.That(placed.EnumerateArray().Select(o => o.GetProperty("OrderRef").GetInt64()), Is.EqualTo(new[] { second }), "filtered by state and device");
    }

    [Test]
    public async Task A_member_reads_devices_but_only_an_owner_creates_rotates_or_revokes_them()
    {
        using var owner = await HouseholdApi.AsAccountAsync(Gateway, "roles-household");
        var (deviceId, _, _) = await CreatePairedDeviceAsync(owner);
        var added = await owner.PostAsync("/v1/household/users", HouseholdApi.Json("""{"UserId":"kid","Role":"Member"}"""));
        using var member = Gateway.Http(Gateway.Services.GetRequiredService<UserTokens>().Issue("kid", "roles-household"));

        Assert.That(added.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await member.GetAsync("/v1/devices")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await member.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"Mine"}"""))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await member.PostAsync($"/v1/devices/{deviceId}/rotate-key", null)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await member.DeleteAsync($"/v1/devices/{deviceId}")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await owner.GetAsync($"/v1/devices/{deviceId}")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the device is still there");
    }

    [Test]
    public async Task Invalid_setup_input_answers_problem_details_naming_the_field()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "sloppy-household");

        var device = await http.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":""}"""));
        var user = await http.PostAsync("/v1/household/users", HouseholdApi.Json("""{"UserId":"Not Valid!","Role":"Member"}"""));
        var role = await http.PostAsync("/v1/household/users", HouseholdApi.Json("""{"UserId":"ok","Role":"Ops"}"""));
        var rename = await http.PutAsync("/v1/household", HouseholdApi.Json("{\"Name\":\"bad\\u0007name\"}"));

        Assert.That(await HouseholdApi.ErrorFieldsAsync(device), Is.EqualTo(new[] { "Name" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(user), Is.EqualTo(new[] { "UserId" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(role), Is.EqualTo(new[] { "Role" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(rename), Is.EqualTo(new[] { "Name" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(await http.GetAsync("/v1/orders?state=Lost")), Is.EqualTo(new[] { "state" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(await http.GetAsync("/v1/orders?limit=0")), Is.EqualTo(new[] { "limit" }));
        Assert.That(await HouseholdApi.ErrorFieldsAsync(await http.PostAsync("/v1/pairing-codes", HouseholdApi.Json("""{"Name":" "}"""))), Is.EqualTo(new[] { "Name" }));
        Assert.That(device.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Every_setup_change_is_in_the_households_audit_log_with_who_and_when()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "audited-household");
        using var other = await HouseholdApi.AsAccountAsync(Gateway, "unaudited-household");
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (deviceId, _, instructionRef) = await CreatePairedDeviceAsync(http);
        await http.PutAsync($"/v1/devices/{deviceId}", HouseholdApi.Json("""{"Name":"Hall button"}"""));
        await http.PostAsync($"/v1/devices/{deviceId}/rotate-key", null);
        await http.DeleteAsync($"/v1/devices/{deviceId}");

        var audit = (await http.GetFromJsonAsync<JsonElement>("/v1/audit")).EnumerateArray().ToList();
        var othersAudit = await other.GetStringAsync("/v1/audit");

        var onDevice = audit.Where(a => a.GetProperty("Subject").GetString() == "device " + deviceId).ToList();
        Assert.That(onDevice.Select(a => a.GetProperty("Action").GetString()), Is.EqualTo(new[] { "RevokeDevice", "RotateDeviceKey", "RenameDevice", "CreateDevice" }), "newest first");
        Assert.That(onDevice.Select(a => a.GetProperty("Change").GetString()), Is.EqualTo(new[] { "removed", "changed", "changed", "changed" }));
        Assert.That(onDevice.Select(a => a.GetProperty("By").GetString()), Has.All.EqualTo("user-of-audited-household"), "the user of the token");
        Assert.That(audit.Select(a => a.GetProperty("At").GetDateTimeOffset()), Has.All.InRange(started, DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.That(audit.Select(a => a.GetProperty("Subject").GetString()), Does.Contain("instruction " + instructionRef.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(othersAudit, Does.Not.Contain(deviceId), "another household's log shows none of it");
    }

    private static Task Disconnection(IMqttClient client)
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        return disconnected.Task;
    }

    private static async Task<(string DeviceId, string Key, long InstructionRef)> CreatePairedDeviceAsync(HttpClient http)
    {
        var created = await http.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"Button"}"""));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var deviceId = body.GetProperty("DeviceId").GetString()!;
        var instructionRef = await HouseholdApi.CreateInstructionAsync(http, $$"""{"Product":"Tea","Retailer":"shop","DeviceIds":["{{deviceId}}"]}""");
        return (deviceId, body.GetProperty(FieldNames.DeviceKey).GetString()!, instructionRef);
    }

    private async Task<HttpStatusCode> TriggerStatusAsync(string deviceKey, long instructionRef)
    {
        using var http = Gateway.Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        request.Headers.Add("Device_Key", deviceKey);
        request.Headers.Add("Instruction_Ref", instructionRef.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return (await http.SendAsync(request)).StatusCode;
    }
}
