using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Pantri.Iot.Broker.Tests;

public sealed class Qos2ReceiptsTests
{
    [Test]
    public async Task A_resend_waits_for_the_original_still_in_flight_and_gets_its_code()
    {
        var receipts = new Qos2Receipts();
        var original = await receipts.ArriveAsync(7, null, CancellationToken.None);

        var resend = receipts.ArriveAsync(7, [new MqttUserProperty("k", new ReadOnlyMemory<byte>([1]))], CancellationToken.None);
        await Task.Delay(50);
        Assert.That(resend.IsCompleted, Is.False, "answered before the original was decided");

        original.Complete(MqttPubAckReasonCode.NotAuthorized);
        var answered = await resend;
        Assert.That(answered.ResendOf, Is.EqualTo(MqttPubAckReasonCode.NotAuthorized));
        Assert.That(answered.Single().Name, Is.EqualTo("k"), "the client's user properties travel on");
    }

    [Test]
    public async Task After_pubrel_or_an_abandoned_original_the_packet_id_is_a_new_message()
    {
        var receipts = new Qos2Receipts();
        (await receipts.ArriveAsync(7, null, CancellationToken.None)).Complete(MqttPubAckReasonCode.Success);
        receipts.Release(7);
        var afterRelease = await receipts.ArriveAsync(7, null, CancellationToken.None);
        Assert.That(afterRelease.ResendOf, Is.Null);

        afterRelease.Abandon();
        Assert.That((await receipts.ArriveAsync(7, null, CancellationToken.None)).ResendOf, Is.Null);
    }

    [Test]
    public async Task A_client_that_never_sends_pubrel_holds_a_bounded_number_of_ids()
    {
        var receipts = new Qos2Receipts();
        for (ushort id = 1; id <= 1000; id++)
        {
            (await receipts.ArriveAsync(id, null, CancellationToken.None)).Complete(MqttPubAckReasonCode.Success);
        }

        Assert.That((await receipts.ArriveAsync(1000, null, CancellationToken.None)).ResendOf, Is.Not.Null, "the newest are remembered");
        Assert.That((await receipts.ArriveAsync(1, null, CancellationToken.None)).ResendOf, Is.Null, "the oldest were forgotten");
    }
}
