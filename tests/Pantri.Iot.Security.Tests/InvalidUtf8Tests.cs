using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Invalid UTF-8 inside a JSON request gets a 400 ack, like any malformed request: never silence.</summary>
public sealed class InvalidUtf8Tests : SharedGatewayTest
{
    // 0xC3 0x28: a two-byte lead followed by an ASCII byte, the classic invalid sequence.
    [TestCase("{\"Instruction_Ref\": 123456789, \"RequestId\": \"a", "\"}", TestName = "Inside the RequestId")]
    [TestCase("{\"Instruction_Ref\": 123456789, \"Note\": \"x", "\"}", TestName = "Inside an ignored field's value")]
    [TestCase("{\"Instruction_Ref\": 123456789, \"No", "te\": 1}", TestName = "Inside an ignored field's name")]
    public async Task Invalid_utf8_inside_a_json_trigger_is_a_400_ack_and_no_order(string before, string after)
    {
        await using var button = await Gateway.ConnectButtonAsync();
        var ordersBefore = Gateway.Orders(DemoCredentials.ButtonRef).Count;
        byte[] payload = [.. System.Text.Encoding.ASCII.GetBytes(before), 0xC3, 0x28, .. System.Text.Encoding.ASCII.GetBytes(after)];

        await button.Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Trigger))
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        var ack = await button.NextAckAsync(TimeSpan.FromSeconds(5));

        Assert.That(ack.Id, Is.EqualTo(AckIds.Malformed), ack.Status);
        Assert.That(Gateway.Orders(DemoCredentials.ButtonRef), Has.Count.EqualTo(ordersBefore));
    }
}
