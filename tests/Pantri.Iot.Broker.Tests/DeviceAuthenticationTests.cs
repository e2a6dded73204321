using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Broker.Tests;

public sealed class DeviceAuthenticationTests : SharedGatewayTest
{
    [TestCase(MqttProtocolVersion.V311)]
    [TestCase(MqttProtocolVersion.V500)]
    public async Task The_right_key_is_accepted(MqttProtocolVersion version)
    {
        var code = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, Gateway.Demo.ButtonKey, version));
        Assert.That(code, Is.EqualTo(MqttClientConnectResultCode.Success));
    }

    [TestCase(MqttProtocolVersion.V311)]
    [TestCase(MqttProtocolVersion.V500)]
    public async Task A_wrong_key_is_refused_at_connack(MqttProtocolVersion version)
    {
        var code = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, "not-the-key", version));
        Assert.That(code, Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
    }

    [Test]
    public async Task Another_devices_key_is_refused()
    {
        var code = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, Gateway.Demo.JarKey));
        Assert.That(code, Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
    }

    [TestCase("demo-jar", "demo-button")]
    [TestCase("demo-button+", "demo-button")]
    [TestCase("demo/button", "demo/button")]
    [TestCase("#", "#")]
    public async Task A_client_id_that_is_not_the_username_or_not_a_device_id_is_refused(string clientId, string userName)
    {
        var code = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, clientId, userName, Gateway.Demo.ButtonKey));
        Assert.That(code, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
    }

    [Test]
    public async Task An_unknown_device_is_refused()
    {
        var code = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, "ghost-device", "ghost-device", Gateway.Demo.ButtonKey));
        Assert.That(code, Is.EqualTo(MqttClientConnectResultCode.BadUserNameOrPassword));
    }

    [Test]
    public async Task A_will_on_another_devices_topic_is_refused_at_connect()
    {
        var options = ButtonWithWill("pantri/v1/devices/demo-jar/trigger", retain: false);
        Assert.That(await TestDevice.TryConnectAsync(options), Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
    }

    [Test]
    public async Task A_retained_will_is_refused_at_connect()
    {
        var options = ButtonWithWill("pantri/v1/devices/demo-button/trigger", retain: true);
        Assert.That(await TestDevice.TryConnectAsync(options), Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
    }

    [Test]
    public async Task A_will_on_its_own_trigger_topic_is_accepted()
    {
        var options = ButtonWithWill("pantri/v1/devices/demo-button/trigger", retain: false);
        Assert.That(await TestDevice.TryConnectAsync(options), Is.EqualTo(MqttClientConnectResultCode.Success));
    }

    private MqttClientOptions ButtonWithWill(string willTopic, bool retain) => new MqttClientOptionsBuilder()
        .WithTcpServer("127.0.0.1", Gateway.MqttPort)
        .WithClientId(DemoCredentials.Button)
        .WithCredentials(DemoCredentials.Button, Gateway.Demo.ButtonKey)
        .WithWillTopic(willTopic)
        .WithWillPayload("123456789")
        .WithWillRetain(retain)
        .Build();
}
