using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Ops users with a credential of their own (made by the command line or the writer): they subscribe to
/// <c>pantri/v1/ops/#</c> only, publish nothing, are gone the moment they are revoked, and never share a session with
/// a device — neither way round.</summary>
public sealed class OpsUserTests : SharedGatewayTest
{
    [Test]
    public async Task An_ops_user_watches_the_ops_topics_publishes_nothing_and_is_disconnected_when_revoked()
    {
        var password = await AddOpsUserAsync("night-shift");
        using var ops = new MqttClientFactory().CreateMqttClient();
        var connected = await ops.ConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-night-shift", "night-shift", password));
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ops.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };

        var all = await ops.SubscribeAsync(Topics.OpsAll, MqttQualityOfServiceLevel.AtLeastOnce);
        var devices = await ops.SubscribeAsync("pantri/v1/devices/demo-button/#");
        var publish = await ops.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("pantri/v1/devices/demo-button/trigger").WithPayload("123456789").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var opsPublish = await ops.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.OpsEvents).WithPayload("{}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var revoked = await Gateway.Services.GetRequiredService<SetupService>().RunAsync(new RemoveOpsUser("night-shift"), CancellationToken.None);
        var gone = await Task.WhenAny(disconnected.Task, Task.Delay(TimeSpan.FromSeconds(5))) == disconnected.Task;

        Assert.That(connected.ResultCode, Is.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That(all.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));
        Assert.That(devices.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.NotAuthorized));
        Assert.That(publish.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(opsPublish.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(revoked.Error, Is.Null);
        Assert.That(gone, Is.True, "revoking closed the connection");
        Assert.That(await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-night-shift", "night-shift", password)), Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword).Or.EqualTo(MqttClientConnectResultCode.NotAuthorized));
    }

    [Test]
    public async Task An_ops_user_cannot_take_over_a_devices_session()
    {
        var password = await AddOpsUserAsync("intruder-ops");
        await using var button = await Gateway.ConnectButtonAsync();

        var asDevice = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, "intruder-ops", password, MqttProtocolVersion.V311));

        Assert.That(asDevice, Is.Not.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That(button.Client.IsConnected, Is.True, "the button kept its session");
        Assert.That((await button.RequestAsync(DeviceTopicKind.Trigger, "123456789")).Id, Is.EqualTo(201));
    }

    [Test]
    public async Task A_device_cannot_take_over_an_ops_users_session()
    {
        var password = await AddOpsUserAsync("day-shift");
        using var ops = new MqttClientFactory().CreateMqttClient();
        var options = TestDevice.Options(Gateway.MqttPort, "ops-day-shift", "day-shift", password);
        await ops.ConnectAsync(options);

        var asOps = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-day-shift", DemoCredentials.Jar, Gateway.Demo.JarKey, MqttProtocolVersion.V311));
        var wrongPassword = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "ops-day-shift-2", "day-shift", Gateway.Demo.JarKey));

        Assert.That(asOps, Is.Not.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That(wrongPassword, Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword).Or.EqualTo(MqttClientConnectResultCode.NotAuthorized));
        Assert.That(ops.IsConnected, Is.True, "the ops user kept its session");
        await ops.DisconnectAsync();
    }

    private async Task<string> AddOpsUserAsync(string name)
    {
        var created = await Gateway.Services.GetRequiredService<SetupService>().RunAsync(new AddOpsUser(name), CancellationToken.None);
        Assert.That(created.Error, Is.Null);
        Assert.That(Encoding.UTF8.GetByteCount(created.Value!.Password), Is.GreaterThanOrEqualTo(32));
        return created.Value.Password;
    }
}
