using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Commands;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Tests.Commands;

/// <summary>What a caller gets when deciding its command threw: the writer undid it, so the answer says "nothing was
/// recorded, safe to retry" and, for a device, stays inside the contract's ack IDs.</summary>
public sealed class FailedCommandAnswerTests
{
    [Test]
    public void A_device_command_that_failed_gets_a_503_naming_an_internal_error_with_its_request_id()
    {
        IWriterCommand<CommandAck> command = DeviceCommand.For(new TriggerRequest(123456789) { RequestId = "r1" }, CommandSource.Device("demo-button"));

        var ack = command.Failed(42).Ack;

        Assert.That(ack.Id, Is.EqualTo(AckIds.Unavailable));
        Assert.That(ack.Status, Is.EqualTo("Didn't do - internal error; nothing was recorded, safe to retry"));
        Assert.That(ack.CommandRef, Is.EqualTo(42));
        Assert.That(ack.RequestId, Is.EqualTo("r1"));
        Assert.That(ack.InstructionRef, Is.EqualTo(123456789));
        Assert.That(command.Unavailable(43).Ack.Status, Does.StartWith("Didn't do - storage unavailable"), "a storage outage still says so");
    }

    [Test]
    public void A_setup_command_that_failed_is_a_500()
    {
        IWriterCommand<SetupResult<InstructionView>> command = new ConfigureTracking("demo", 1, new TrackingSpec(1, "count", null, 0, 1, null));

        var result = command.Failed(42);

        Assert.That(result.Status, Is.EqualTo(500));
        Assert.That(result.Error, Does.Contain("nothing was recorded"));
    }
}
