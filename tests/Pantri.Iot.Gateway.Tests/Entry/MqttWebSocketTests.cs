using System.Net;
using MQTTnet;
using MQTTnet.Formatter;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Entry;

/// <summary>MQTT over WebSockets at <c>/mqtt</c>, with MQTTnet's own WebSocket client: the same broker and the same
/// answers as over TCP.</summary>
public sealed class MqttWebSocketTests : GatewayTest
{
    [Test]
    public async Task A_press_over_websockets_is_acked_201_on_the_ack_topic_and_places_the_order()
    {
        await using var button = await TestDevice.ConnectWebSocketAsync(Gateway.HttpBase, DemoCredentials.Button, Gateway.Demo.ButtonKey);

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "ws-1"}""");

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(ack.RequestId, Is.EqualTo("ws-1"));
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef).Single().Ref, Is.EqualTo(ack.OrderRef));
    }

    [Test]
    public async Task An_ops_client_over_websockets_reads_the_retained_ops_state_and_sees_presses_live()
    {
        using var ops = new MqttClientFactory().CreateMqttClient();
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ops.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };
        await using var button = await Gateway.ConnectButtonAsync();
        var connected = await ops.ConnectAsync(TestDevice.WebSocketOptions(Gateway.HttpBase, "ops-ws-test", TestGateway.OpsUser, TestGateway.OpsPassword));
        Assert.That(connected.ResultCode, Is.EqualTo(MqttClientConnectResultCode.Success));
        var granted = await ops.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.OpsAll, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.That(granted.Items.Single().ResultCode, Is.EqualTo(MqttClientSubscribeResultCode.GrantedQoS1));

        await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "ws-ops"}""");
        for (var i = 0; i < 50 && !received.Contains(Topics.OpsEvents); i++)
        {
            await Task.Delay(100);
        }

        Assert.That(received, Does.Contain(Topics.OpsDevice(DemoCredentials.Button)), "the button's retained presence");
        Assert.That(received, Does.Contain(Topics.OpsEvents), "the press's ops event");
        await ops.DisconnectAsync();
    }

    [Test]
    public async Task The_gateway_stops_promptly_with_websocket_clients_connected()
    {
        var gateway = await TestGateway.StartAsync();
        await using var button = await TestDevice.ConnectWebSocketAsync(gateway.HttpBase, DemoCredentials.Button, gateway.Demo.ButtonKey);
        await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "ws-stop"}""");
        var stopping = System.Diagnostics.Stopwatch.StartNew();

        await gateway.DisposeAsync();

        Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        for (var i = 0; i < 50 && button.Client.IsConnected; i++)
        {
            await Task.Delay(100);
        }

        Assert.That(button.Client.IsConnected, Is.False, "the broker closed the WebSocket connection");
    }

    [TestCase(MqttProtocolVersion.V500)]
    [TestCase(MqttProtocolVersion.V311)]
    public async Task A_wrong_key_is_refused_as_over_tcp(MqttProtocolVersion version)
    {
        var overTcp = await TestDevice.TryConnectAsync(TestDevice.Options(Gateway.MqttPort, DemoCredentials.Button, DemoCredentials.Button, "wrong-key", version));
        var overWebSocket = await TestDevice.TryConnectAsync(TestDevice.WebSocketOptions(Gateway.HttpBase, DemoCredentials.Button, DemoCredentials.Button, "wrong-key", version));

        Assert.That(overTcp, Is.Not.EqualTo(MqttClientConnectResultCode.Success));
        Assert.That(overWebSocket, Is.EqualTo(overTcp));
    }

    [TestCase("#")]
    [TestCase("pantri/v1/devices/demo-jar/ack")]
    [TestCase("pantri/v1/ops/#")]
    public async Task Subscribing_outside_its_namespace_is_refused_as_over_tcp(string filter)
    {
        await using var overTcp = await Gateway.ConnectButtonAsync();
        await using var overWebSocket = await TestDevice.ConnectWebSocketAsync(Gateway.HttpBase, DemoCredentials.Jar, Gateway.Demo.JarKey);
        var jarFilter = filter.Replace("demo-jar", "demo-button", StringComparison.Ordinal);

        Assert.That(await overTcp.SubscribeAsync(filter), Is.EqualTo(MqttClientSubscribeResultCode.NotAuthorized));
        Assert.That(await overWebSocket.SubscribeAsync(jarFilter), Is.EqualTo(MqttClientSubscribeResultCode.NotAuthorized));
    }

    [Test]
    public async Task Publishing_to_another_devices_topic_is_refused_as_over_tcp_and_reaches_nobody()
    {
        await using var jar = await Gateway.ConnectJarAsync();
        await jar.SubscribeAsync("pantri/v1/devices/demo-jar/#");
        await using var button = await TestDevice.ConnectWebSocketAsync(Gateway.HttpBase, DemoCredentials.Button, Gateway.Demo.ButtonKey);

        var result = await button.PublishRawAsync(Topics.Device(DemoCredentials.Jar, DeviceTopicKind.Level), """{"Instruction_Ref":987654321,"Level":1}""");

        Assert.That(result.ReasonCode, Is.EqualTo(MqttClientPublishReasonCode.NotAuthorized));
        Assert.That(await jar.ReceivesNothingAsync(_ => true, TimeSpan.FromMilliseconds(500)), Is.True);
    }

    [Test]
    public async Task WebSocket_connections_count_against_the_same_per_address_cap_as_tcp()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:MaxConnectionsPerAddress=1"]);
        await using var overTcp = await gateway.ConnectButtonAsync();

        using var client = new MqttClientFactory().CreateMqttClient();
        var refused = Assert.CatchAsync(() => client.ConnectAsync(TestDevice.WebSocketOptions(gateway.HttpBase, DemoCredentials.Jar, DemoCredentials.Jar, gateway.Demo.JarKey)));

        Assert.That(refused, Is.Not.Null, "a second connection from 127.0.0.1 is over the cap, whichever transport");
        Assert.That(client.IsConnected, Is.False);
    }

    [Test]
    public async Task A_websocket_that_sends_no_connect_is_closed_after_the_connect_timeout()
    {
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Mqtt:ConnectTimeout=00:00:01"]);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.AddSubProtocol("mqtt");
        await socket.ConnectAsync(new UriBuilder(gateway.HttpBase) { Scheme = "ws", Path = "/mqtt" }.Uri, CancellationToken.None);
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var closed = false;
        try
        {
            var result = await socket.ReceiveAsync(new byte[16], bound.Token);
            closed = result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close;
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            closed = true; // closed without a close frame
        }

        Assert.That(socket.SubProtocol, Is.EqualTo("mqtt"));
        Assert.That(closed, Is.True, "the gateway closed the silent connection");
        Assert.That(started.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.8)).And.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task A_plain_http_request_to_mqtt_is_a_bad_request()
    {
        using var http = Gateway.Http();
        Assert.That((await http.GetAsync(new Uri("/mqtt", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }
}
