using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pairing;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Pairing codes: a household asks for one, a new device presents it on its own provisioning topic and gets
/// its credentials and instructions. A code works once and only until it expires; the provisioning identity can touch
/// nothing but its own two topics, for a bounded time; guessing codes is refused per connection and per address.</summary>
[Category("Integration")]
public sealed class ProvisioningTests
{
    // These tests send wrong codes on purpose: the per-address block is raised so they do not block each other
    // (PairingCodeBurstTests checks the block itself).
    [OneTimeSetUp]
    public async Task StartGateway() => Gateway = await TestGateway.StartAsync(["--Pantri:Pairing:FailuresPerAddress=1000"]);

    [OneTimeTearDown]
    public async Task StopGateway() => await Gateway.DisposeAsync();

    [TearDown]
    public void FailOnUnexpectedLoggedErrors() => Gateway.ThrowIfLoggedErrors();

    private TestGateway Gateway { get; set; } = null!;

    [Test]
    public async Task A_device_provisioned_with_a_pairing_code_presses_its_instruction()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "pairing-household");
        var instructionRef = await HouseholdApi.CreateInstructionAsync(http, """{"Product":"Rice","Retailer":"shop"}""");
        var code = await PairingCodeAsync(http, instructionRef);

        await using var newDevice = await ProvisioningClient.ConnectAsync(Gateway.MqttPort, "prov-serial-0001");
        var answer = await newDevice.RedeemAsync(code.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal));

        Assert.That(answer.Id, Is.EqualTo(201), answer.Status);
        Assert.That(DeviceIds.IsValid(answer.DeviceId), Is.True);
        Assert.That(answer.InstructionRefs, Is.EqualTo(new[] { instructionRef }));
        await using var device = await Gateway.ConnectAsync(answer.DeviceId!, answer.DeviceKey!);
        var ack = await device.RequestAsync(DeviceTopicKind.Trigger, "");
        Assert.That(ack.Id, Is.EqualTo(201));
        Assert.That(ack.InstructionRef, Is.EqualTo(instructionRef));
        var listed = await http.GetFromJsonAsync<JsonElement>("/v1/devices");
        Assert.That(listed.EnumerateArray().Select(d => d.GetProperty("Name").GetString()), Is.EqualTo(new[] { "Pantry button" }));
        var audit = await http.GetFromJsonAsync<JsonElement>("/v1/audit");
        Assert.That(audit.EnumerateArray().Any(a => a.GetProperty("By").GetString() == "provisioning:prov-serial-0001" && a.GetProperty("Action").GetString() == "RedeemPairingCode"), Is.True, "the provisioning is in the audit log");
    }

    [Test]
    public async Task A_used_or_expired_code_is_refused_like_an_unknown_one()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "reusing-household");
        var code = await PairingCodeAsync(http);
        var expired = await Gateway.Services.GetRequiredService<SetupService>().RunAsync(
            new CreatePairingCode("reusing-household", new NewPairingCode(), "test", TimeSpan.FromMilliseconds(1)), CancellationToken.None);
        await Task.Delay(20);

        await using var client = await ProvisioningClient.ConnectAsync(Gateway.MqttPort, "prov-serial-0002");
        var first = await client.RedeemAsync(code);
        var again = await client.RedeemAsync(code);
        var late = await client.RedeemAsync(expired.Value!.Code);

        Assert.That(first.Id, Is.EqualTo(201));
        Assert.That(again.Id, Is.EqualTo(404));
        Assert.That(late.Id, Is.EqualTo(404));
        Assert.That(late.Status, Is.EqualTo(again.Status), "expired and used answer alike");
        Assert.That(again.DeviceKey, Is.Null);
    }

    [Test]
    public async Task The_provisioning_identity_reaches_only_its_own_two_topics()
    {
        await using var client = await ProvisioningClient.ConnectAsync(Gateway.MqttPort, "prov-serial-0003", subscribe: false);

        var others = await client.Client.SubscribeAsync("pantri/v1/provision/prov-serial-9999/response");
        var wildcard = await client.Client.SubscribeAsync("pantri/v1/provision/#");
        var devices = await client.Client.SubscribeAsync("pantri/v1/devices/demo-button/#");
        var ops = await client.Client.SubscribeAsync("pantri/v1/ops/#");
        var trigger = await client.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("pantri/v1/devices/demo-button/trigger").WithPayload("123456789").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var foreignRequest = await client.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Provisioning.RequestTopic("prov-serial-9999")).WithPayload("""{"Code":"AAAA-AAAA"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.That(new[] { others, wildcard, devices, ops }.Select(r => r.Items.Single().ResultCode), Has.All.EqualTo(MqttClientSubscribeResultCode.NotAuthorized));
        Assert.That(trigger.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(foreignRequest.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Is.Empty, "nothing was ordered");
    }

    [Test]
    public async Task A_second_connection_cannot_take_over_a_provisioning_client_id_in_use()
    {
        await using var first = await ProvisioningClient.ConnectAsync(Gateway.MqttPort, "prov-serial-0005");

        var second = await TestDevice.TryConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Gateway.MqttPort)
            .WithClientId("prov-serial-0005").WithCredentials(Provisioning.UserName, string.Empty).Build());

        Assert.That(second, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(first.Client.IsConnected, Is.True, "the first connection keeps its session");
        Assert.That((await first.RedeemAsync("ZZZZ-ZZZZ")).Id, Is.EqualTo(404), "and still gets its answers");
    }

    [Test]
    public async Task A_provisioning_client_may_try_three_codes_then_is_disconnected()
    {
        await using var client = await ProvisioningClient.ConnectAsync(Gateway.MqttPort, "prov-serial-0004");
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Client.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };

        var answers = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add((await client.RequestAsync("not json")).Id);
        }

        Assert.That(answers, Is.EqualTo(new[] { 400, 400, 400, 429 }));
        Assert.That(await Task.WhenAny(disconnected.Task, Task.Delay(TimeSpan.FromSeconds(5))), Is.SameAs(disconnected.Task), "the connection was closed");
    }

    [Test]
    public async Task Another_households_instruction_cannot_be_bound_to_a_code()
    {
        using var victim = await HouseholdApi.AsAccountAsync(Gateway, "pairing-victim");
        using var intruder = await HouseholdApi.AsAccountAsync(Gateway, "pairing-intruder");
        var instructionRef = await HouseholdApi.CreateInstructionAsync(victim, """{"Product":"Milk","Retailer":"shop"}""");

        var response = await intruder.PostAsync("/v1/pairing-codes", HouseholdApi.Json($$"""{"Name":"Spy","Instruction_Refs":[{{instructionRef}}]}"""));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private static async Task<string> PairingCodeAsync(HttpClient http, params long[] instructionRefs)
    {
        var response = await http.PostAsync("/v1/pairing-codes", HouseholdApi.Json($$"""{"Name":"Pantry button","Instruction_Refs":[{{string.Join(',', instructionRefs)}}]}"""));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var code = body.GetProperty("Code").GetString()!;
        Assert.That(code, Does.Match(@"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$"));
        Assert.That(body.GetProperty("ExpiresAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, Is.InRange(TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10)));
        return code;
    }
}

/// <summary>Guessing in a burst: after five wrong codes from one address, that address is refused for a while — a
/// valid code included — and the installation-wide limit stops guessing spread over many addresses. Each test has a
/// gateway of its own, since the block outlives the test.</summary>
[Category("Integration")]
public sealed class PairingCodeBurstTests
{
    [Test]
    public async Task After_a_burst_of_wrong_codes_the_address_is_refused_even_with_a_valid_code()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = await HouseholdApi.AsAccountAsync(gateway, "burst-household");
        var valid = (await (await http.PostAsync("/v1/pairing-codes", HouseholdApi.Json("{}"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Code").GetString()!;

        var answers = new List<int>();
        for (var connection = 0; connection < 2; connection++)
        {
            await using var guesser = await ProvisioningClient.ConnectAsync(gateway.MqttPort, $"prov-guesser-{connection}");
            for (var i = 0; i < 3; i++)
            {
                answers.Add((await guesser.RedeemAsync(WrongCode(connection * 3 + i))).Id);
            }
        }

        await using var honest = await ProvisioningClient.ConnectAsync(gateway.MqttPort, "prov-honest");
        var refused = await honest.RedeemAsync(valid);

        Assert.That(answers.Take(5), Has.All.EqualTo(404), "wrong codes");
        Assert.That(answers[5], Is.EqualTo(429), "the sixth attempt is refused without looking at the code");
        Assert.That(refused.Id, Is.EqualTo(429), "and so is a valid code from the same address");
        Assert.That(refused.DeviceKey, Is.Null);
        gateway.ThrowIfLoggedErrors();
    }

    [Test]
    public void The_installation_wide_limit_refuses_everyone_for_the_rest_of_the_minute()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var guard = new PairingAttemptGuard(Microsoft.Extensions.Options.Options.Create(new PairingOptions { FailuresPerMinute = 10 }), time);

        for (var i = 0; i < 10; i++)
        {
            guard.Failed(IPAddress.Parse($"10.0.0.{i + 1}"));
        }

        var during = guard.IsAllowed(IPAddress.Parse("10.0.1.1"));
        time.Advance(TimeSpan.FromMinutes(1));
        var after = guard.IsAllowed(IPAddress.Parse("10.0.1.1"));

        Assert.That(during, Is.False, "ten addresses with one wrong code each used up the minute");
        Assert.That(after, Is.True);
    }

    [Test]
    public async Task A_provisioning_connection_is_closed_after_its_time()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:ProvisioningConnectionTime=00:00:01"]);
        await using var client = await ProvisioningClient.ConnectAsync(gateway.MqttPort, "prov-lingering");
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Client.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };

        var closed = await Task.WhenAny(disconnected.Task, Task.Delay(TimeSpan.FromSeconds(5))) == disconnected.Task;

        Assert.That(closed, Is.True);
        gateway.ThrowIfLoggedErrors();
    }

    // Distinct well-formed codes nobody was given (the alphabet has no 0 or 1, so these are codes, just wrong ones).
    private static string WrongCode(int i) => "ZZZZ-ZZ" + PairingCodes.Alphabet[i] + PairingCodes.Alphabet[i + 1];
}
