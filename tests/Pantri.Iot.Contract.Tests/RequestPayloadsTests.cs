using System.Text;

namespace Pantri.Iot.Contract.Tests;

public sealed class RequestPayloadsTests
{
    private const string AwkwardRequestId = "a\"b\\c/é😀<>&'\n";

    public static IEnumerable<TestCaseData> RoundTrips()
    {
        TestCaseData Case(string name, DeviceTopicKind kind, byte[] payload, DeviceRequest expected) =>
            new TestCaseData(kind, payload, expected).SetName(name);

        yield return Case("Trigger()", DeviceTopicKind.Trigger, RequestPayloads.Trigger(), new TriggerRequest(null));
        yield return Case("Trigger(ref)", DeviceTopicKind.Trigger, RequestPayloads.Trigger(679866150), new TriggerRequest(679866150));
        yield return Case("Trigger(requestId only)", DeviceTopicKind.Trigger, RequestPayloads.Trigger(requestId: "a1"), new TriggerRequest(null) { RequestId = "a1" });
        yield return Case("Trigger(ref, awkward requestId)", DeviceTopicKind.Trigger, RequestPayloads.Trigger(5, AwkwardRequestId), new TriggerRequest(5) { RequestId = AwkwardRequestId });
        yield return Case("Trigger(largest ref)", DeviceTopicKind.Trigger, RequestPayloads.Trigger(long.MaxValue), new TriggerRequest(long.MaxValue));
        yield return Case("Level(ref, 0)", DeviceTopicKind.Level, RequestPayloads.Level(5, 0), new LevelReport(5, 0));
        yield return Case("Level(ref, 12.25, requestId)", DeviceTopicKind.Level, RequestPayloads.Level(147478858, 12.25, "a2"), new LevelReport(147478858, 12.25) { RequestId = "a2" });
        yield return Case("Level(ref, 0.1)", DeviceTopicKind.Level, RequestPayloads.Level(5, 0.1), new LevelReport(5, 0.1));
        yield return Case("Level(ref, MaxQuantity)", DeviceTopicKind.Level, RequestPayloads.Level(5, DeviceRequestParser.MaxQuantity), new LevelReport(5, DeviceRequestParser.MaxQuantity));
        yield return Case("Usage(ref)", DeviceTopicKind.Usage, RequestPayloads.Usage(147478858), new UsageReport(147478858, 1));
        yield return Case("Usage(ref, 2.5, requestId)", DeviceTopicKind.Usage, RequestPayloads.Usage(5, 2.5, "a3"), new UsageReport(5, 2.5) { RequestId = "a3" });
        yield return Case("Usage(ref, 1e-7)", DeviceTopicKind.Usage, RequestPayloads.Usage(5, 1e-7), new UsageReport(5, 1e-7));
        var longest = new string('r', RequestIds.MaxLength);
        yield return Case("Usage(ref, 1, longest requestId)", DeviceTopicKind.Usage, RequestPayloads.Usage(5, requestId: longest), new UsageReport(5, 1) { RequestId = longest });
    }

    [TestCaseSource(nameof(RoundTrips))]
    public void Every_payload_written_parses_back_to_the_same_request(DeviceTopicKind kind, byte[] payload, DeviceRequest expected)
    {
        Assert.That(DeviceRequestParser.TryParse(kind, payload, out var request, out var error), Is.True, () => "refused: " + error?.Reason);
        Assert.That(request, Is.EqualTo(expected));
    }

    [Test]
    public void A_trigger_with_nothing_to_say_is_an_empty_object() =>
        Assert.That(Text(RequestPayloads.Trigger()), Is.EqualTo("{}"));

    [Test]
    public void Payloads_use_the_contract_field_names()
    {
        Assert.That(Text(RequestPayloads.Trigger(679866150, "a1")), Is.EqualTo("""{"Instruction_Ref":679866150,"RequestId":"a1"}"""));
        Assert.That(Text(RequestPayloads.Level(147478858, 12, "a2")), Is.EqualTo("""{"Instruction_Ref":147478858,"Level":12,"RequestId":"a2"}"""));
        Assert.That(Text(RequestPayloads.Usage(147478858)), Is.EqualTo("""{"Instruction_Ref":147478858,"Used":1}"""));
    }

    [Test]
    public void An_empty_RequestId_is_left_out() =>
        Assert.That(Text(RequestPayloads.Trigger(5, "")), Is.EqualTo("""{"Instruction_Ref":5}"""));

    [Test]
    public void A_RequestId_keeps_non_ASCII_text_readable_and_escapes_only_what_JSON_requires() =>
        Assert.That(Text(RequestPayloads.Trigger(requestId: "café \"1\"")), Is.EqualTo("""{"RequestId":"café \"1\""}"""));

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void A_quantity_JSON_cannot_carry_is_refused(double quantity)
    {
        Assert.That(() => RequestPayloads.Level(5, quantity), Throws.ArgumentException);
        Assert.That(() => RequestPayloads.Usage(5, quantity), Throws.ArgumentException);
    }

    [Test]
    public void An_out_of_range_report_can_be_written_to_test_the_error_ack()
    {
        Assert.That(DeviceRequestParser.TryParse(DeviceTopicKind.Level, RequestPayloads.Level(5, -1, "neg"), out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo(new MalformedRequest("Level must be a finite number between 0 and 1000000000", "neg", 5)));
    }

    private static string Text(byte[] payload) => Encoding.UTF8.GetString(payload);
}
