using System.Text;

namespace Pantri.Iot.Contract.Tests;

public sealed class ContractJsonTests
{
    [Test]
    public void An_ack_is_written_with_the_seed_field_names_and_readable_status_text()
    {
        var ack = new Acknowledgement
        {
            CommandRef = 739546323,
            Id = AckIds.NotPaired,
            Status = AckIds.DidNotDo("not paired"),
            InstructionRef = 679866150,
            RequestId = "a1",
            Level = 3,
        };

        Assert.That(
            Encoding.UTF8.GetString(ContractJson.Serialize(ack)),
            Is.EqualTo("""{"CommandRef":739546323,"ID":403,"Status":"Didn't do - not paired","Instruction_Ref":679866150,"RequestId":"a1","Level":3}"""));
    }

    [Test]
    public void An_ack_is_read_with_field_names_in_any_case()
    {
        var ack = ContractJson.DeserializeAcknowledgement("""{"commandref":7,"id":201,"STATUS":"Done","instruction_ref":5,"requestid":"x"}"""u8);

        Assert.That(ack, Is.EqualTo(new Acknowledgement { CommandRef = 7, Id = 201, Status = AckIds.Done, InstructionRef = 5, RequestId = "x" }));
    }
}
