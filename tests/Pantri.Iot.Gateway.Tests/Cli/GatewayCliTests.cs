using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using Pantri.Iot.Gateway.Cli;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Cli;

/// <summary>The command line against a data directory: it creates what the gateway then serves (households, tokens,
/// devices, ops users), refuses bad input with exit code 1, and refuses to touch a directory a running gateway holds
/// (exit code 3).</summary>
[Category("Integration")]
public sealed class GatewayCliTests
{
    private string _dataDirectory = null!;

    [SetUp]
    public void NewDataDirectory() => _dataDirectory = Path.Combine(Path.GetTempPath(), "pantri-cli-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void RemoveDataDirectory()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Test]
    public async Task What_the_command_line_creates_works_once_the_gateway_runs()
    {
        var household = await RunAsync("households", "add", "The Smiths", "--owner", "alice");
        var token = await RunAsync("token", "--household", "the-smiths", "--user", "alice", "--days", "2");
        var device = (await RunAsync("devices", "add", "--household", "the-smiths", "--name", "Hall button")).Split('\t');
        var opsPassword = await RunAsync("ops-users", "add", "carol");
        var list = await RunAsync("households", "list");

        Assert.That(household, Is.EqualTo("the-smiths"));
        Assert.That(list, Does.StartWith("the-smiths\tThe Smiths\tusers: alice(owner)\tdevices: 1"));
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Demo:Enabled=false"], dataDirectory: _dataDirectory);
        using var http = gateway.Http(token);
        var view = await http.GetFromJsonAsync<JsonElement>("/v1/household");
        Assert.That(view.GetProperty("Name").GetString(), Is.EqualTo("The Smiths"));
        Assert.That((await http.GetFromJsonAsync<JsonElement>("/v1/devices"))[0].GetProperty("DeviceId").GetString(), Is.EqualTo(device[0]));
        await using var button = await gateway.ConnectAsync(device[0], device[1]);
        Assert.That(button.Client.IsConnected, Is.True, "the device key printed by the command line works");
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(gateway.MqttPort, "ops-carol", "carol", opsPassword)), Is.EqualTo(MqttClientConnectResultCode.Success), "so does the ops password");
        Assert.That(File.Exists(Path.Combine(_dataDirectory, "demo-household.json")), Is.False, "Pantri:Demo:Enabled=false made no demo household");

        var whileRunning = await TryRunAsync("households", "list");
        Assert.That(whileRunning.Code, Is.EqualTo(GatewayCli.Unavailable), "the directory is held by the running gateway");
        Assert.That(whileRunning.Output, Is.Empty);
    }

    [Test]
    public async Task Refusals_exit_with_code_1_and_print_nothing_on_standard_output()
    {
        await RunAsync("households", "add", "Smith");

        var taken = await TryRunAsync("households", "add", "Smith");
        var badId = await TryRunAsync("households", "add", "Smith", "--id", "Not Valid");
        var unknown = await TryRunAsync("token", "--household", "nobody", "--user", "alice");
        var badDays = await TryRunAsync("token", "--household", "smith", "--user", "alice", "--days", "0");

        Assert.That(new[] { taken.Code, badId.Code, unknown.Code, badDays.Code }, Has.All.EqualTo(GatewayCli.Refused));
        Assert.That(new[] { taken.Output, badId.Output, unknown.Output, badDays.Output }, Has.All.Empty);
    }

    [Test]
    public async Task A_token_of_a_removed_household_no_longer_works()
    {
        await RunAsync("households", "add", "Short lived");
        var token = await RunAsync("token", "--household", "short-lived", "--user", "bob");
        await RunAsync("households", "delete", "short-lived");

        await using var gateway = await TestGateway.StartAsync(dataDirectory: _dataDirectory);
        using var http = gateway.Http(token);
        Assert.That((await http.GetAsync("/v1/household")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task The_demo_households_token_is_reissued_into_its_file()
    {
        await (await TestGateway.StartAsync(dataDirectory: _dataDirectory)).StopAsync();
        var before = DemoCredentials.Read(_dataDirectory);

        var token = await RunAsync("token", "--household", "demo", "--user", "demo-user", "--days", "1");

        var after = DemoCredentials.Read(_dataDirectory);
        Assert.That(token, Is.Not.EqualTo(before.UserAuth));
        Assert.That(after.UserAuth, Is.EqualTo(token), "demo-household.json holds the new token");
        Assert.That(after.ButtonKey, Is.EqualTo(before.ButtonKey), "and the same device keys");
        await using var gateway = await TestGateway.StartAsync(dataDirectory: _dataDirectory);
        using var http = gateway.Http(token);
        Assert.That((await http.GetAsync("/v1/household")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Revoking_an_ops_user_while_the_gateway_runs_goes_through_its_api_and_closes_the_connection()
    {
        var password = await RunAsync("ops-users", "add", "carol");
        await using var gateway = await TestGateway.StartAsync(dataDirectory: _dataDirectory);
        using var ops = new MqttClientFactory().CreateMqttClient();
        await ops.ConnectAsync(TestDevice.Options(gateway.MqttPort, "ops-carol", "carol", password));
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ops.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        using var household = gateway.Http();
        using var asHousehold = new HttpRequestMessage(HttpMethod.Delete, "/v1/admin/ops-users/carol");
        asHousehold.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", gateway.Demo.UserAuth);
        var refused = await household.SendAsync(asHousehold);

        var revoked = await TryRunAsync("ops-users", "revoke", "carol", "--url", gateway.HttpBase.ToString());
        var gone = await Task.WhenAny(disconnected.Task, Task.Delay(TimeSpan.FromSeconds(5))) == disconnected.Task;

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a household's token is not an installation-admin token");
        Assert.That(revoked, Is.EqualTo((0, "revoked carol")));
        Assert.That(gone, Is.True, "the ops user's connection was closed");
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(gateway.MqttPort, "ops-carol", "carol", password)), Is.Not.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That((await TryRunAsync("ops-users", "revoke", "carol", "--url", gateway.HttpBase.ToString())).Code, Is.EqualTo(GatewayCli.Refused), "unknown now");
    }

    private async Task<string> RunAsync(params string[] args)
    {
        var (code, output) = await TryRunAsync(args);
        Assert.That(code, Is.Zero, $"{string.Join(' ', args)} → {output}");
        return output;
    }

    private async Task<(int Code, string Output)> TryRunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var code = await GatewayCli.RunAsync([.. args, "--data-dir", _dataDirectory], output);
        return (code, output.ToString().Trim());
    }
}
