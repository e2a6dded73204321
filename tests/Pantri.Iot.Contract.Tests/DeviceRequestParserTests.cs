using System.Text;

namespace Pantri.Iot.Contract.Tests;

public sealed class DeviceRequestParserTests
{
    private static readonly string TooLongRequestId = new('r', RequestIds.MaxLength + 1);

    public static IEnumerable<TestCaseData> ContractExamples()
    {
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": 679866150, "RequestId": "a1"}""", new TriggerRequest(679866150) { RequestId = "a1" })
            .SetName("The contract's JSON trigger");
        yield return new TestCaseData(DeviceTopicKind.Trigger, "679866150", new TriggerRequest(679866150))
            .SetName("The contract's bare decimal trigger");
        yield return new TestCaseData(DeviceTopicKind.Trigger, " 679866150\r\n", new TriggerRequest(679866150))
            .SetName("A bare decimal trigger with surrounding whitespace");
        yield return new TestCaseData(DeviceTopicKind.Trigger, "", new TriggerRequest(null))
            .SetName("The contract's empty trigger, for the only paired instruction");
        yield return new TestCaseData(DeviceTopicKind.Trigger, " \t\r\n", new TriggerRequest(null))
            .SetName("A whitespace-only trigger counts as empty");
        yield return new TestCaseData(DeviceTopicKind.Trigger, "{}", new TriggerRequest(null))
            .SetName("An empty JSON trigger, for the only paired instruction");
        yield return new TestCaseData(DeviceTopicKind.Level, """{"Instruction_Ref": 147478858, "Level": 12, "RequestId": "a2"}""", new LevelReport(147478858, 12) { RequestId = "a2" })
            .SetName("The contract's level report");
        yield return new TestCaseData(DeviceTopicKind.Usage, """{"Instruction_Ref": 147478858, "Used": 1, "RequestId": "a3"}""", new UsageReport(147478858, 1) { RequestId = "a3" })
            .SetName("The contract's usage report");
        yield return new TestCaseData(DeviceTopicKind.Usage, """{"Instruction_Ref": 147478858}""", new UsageReport(147478858, 1))
            .SetName("A usage report without Used counts one");
        yield return new TestCaseData(DeviceTopicKind.Usage, """{"Instruction_Ref": 5, "Used": 2.5}""", new UsageReport(5, 2.5))
            .SetName("A usage report may use fractions");
        yield return new TestCaseData(DeviceTopicKind.Level, """{"instruction_ref": 5, "LEVEL": 3, "requestid": "x"}""", new LevelReport(5, 3) { RequestId = "x" })
            .SetName("Field names match in any case");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": "679866150"}""", new TriggerRequest(679866150))
            .SetName("An Instruction_Ref in quotes is read as a number");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Extra": {"a": [1, {"b": null}]}, "Level": "x", "Used": [], "Instruction_Ref": 5}""", new TriggerRequest(5))
            .SetName("A trigger ignores unknown fields and the reports' fields");
        yield return new TestCaseData(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Used": "x", "Level": 2}""", new LevelReport(5, 2))
            .SetName("A level report ignores Used");
        yield return new TestCaseData(DeviceTopicKind.Usage, """{"Instruction_Ref": 5, "Level": "x", "Used": 2}""", new UsageReport(5, 2))
            .SetName("A usage report ignores Level");
        yield return new TestCaseData(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": 0}""", new LevelReport(5, 0))
            .SetName("A level of zero is accepted");
        yield return new TestCaseData(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": 1000000000}""", new LevelReport(5, DeviceRequestParser.MaxQuantity))
            .SetName("A level of MaxQuantity is accepted");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": 5, "RequestId": 17}""", new TriggerRequest(5) { RequestId = "17" })
            .SetName("A numeric RequestId is kept as its literal text");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": 5, "RequestId": 1.50}""", new TriggerRequest(5) { RequestId = "1.50" })
            .SetName("A fractional RequestId keeps its exact digits");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": 5, "RequestId": ""}""", new TriggerRequest(5))
            .SetName("An empty RequestId means none");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"Instruction_Ref": 5, "RequestId": null}""", new TriggerRequest(5))
            .SetName("A null RequestId means none");
        yield return new TestCaseData(DeviceTopicKind.Trigger, """{"RequestId": "a\u00e9\"b"}""", new TriggerRequest(null) { RequestId = "a\u00e9\"b" })
            .SetName("An escaped RequestId is unescaped");
    }

    public static IEnumerable<TestCaseData> MalformedPayloads()
    {
        TestCaseData Case(DeviceTopicKind kind, string payload, string reason) =>
            new TestCaseData(kind, payload, reason).SetName($"{kind} {payload.Trim()} is refused: {reason}");

        yield return Case(DeviceTopicKind.Ack, """{"Instruction_Ref": 5}""", "not a request topic");
        yield return Case(DeviceTopicKind.Orders, "", "not a request topic");
        yield return Case(DeviceTopicKind.Level, "", "empty payload; expected JSON with Instruction_Ref");
        yield return Case(DeviceTopicKind.Usage, " \n", "empty payload; expected JSON with Instruction_Ref");
        yield return Case(DeviceTopicKind.Trigger, "0", "a bare payload must be a positive decimal Instruction_Ref");
        yield return Case(DeviceTopicKind.Trigger, "12a", "a bare payload must be a positive decimal Instruction_Ref");
        yield return Case(DeviceTopicKind.Trigger, "1.5", "a bare payload must be a positive decimal Instruction_Ref");
        yield return Case(DeviceTopicKind.Trigger, "1234567890123456789", "a bare payload must be a positive decimal Instruction_Ref");
        yield return Case(DeviceTopicKind.Trigger, "-5", "payload must be a JSON object");
        yield return Case(DeviceTopicKind.Level, "12", "payload must be a JSON object");
        yield return Case(DeviceTopicKind.Level, "[1]", "payload must be a JSON object");
        yield return Case(DeviceTopicKind.Usage, "\"x\"", "payload must be a JSON object");
        yield return Case(DeviceTopicKind.Trigger, "null", "payload must be a JSON object");
        yield return Case(DeviceTopicKind.Trigger, "hello", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Level, "{", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Level, """{"a":}""", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Trigger, "{} {}", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Trigger, """{/*c*/"Instruction_Ref": 5}""", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Trigger, "{'Instruction_Ref': 5}", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Trigger, """{"a": [[[[[[[[[1]]]]]]]]]}""", "payload is not valid JSON");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": 0}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": -1}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": 1.5}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": "abc"}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": " 5"}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": null}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": true}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"Instruction_Ref": 9223372036854775808}""", "Instruction_Ref must be a positive integer");
        yield return Case(DeviceTopicKind.Trigger, """{"RequestId": true}""", "RequestId must be a string");
        yield return Case(DeviceTopicKind.Trigger, """{"RequestId": {}}""", "RequestId must be a string");
        yield return Case(DeviceTopicKind.Trigger, """{"RequestId": []}""", "RequestId must be a string");
        yield return Case(DeviceTopicKind.Trigger, $$"""{"RequestId": "{{TooLongRequestId}}"}""", "RequestId longer than 128 characters");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": "12"}""", "Level must be a number");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": null}""", "Level must be a number");
        yield return Case(DeviceTopicKind.Usage, """{"Instruction_Ref": 5, "Used": "x"}""", "Used must be a number");
        yield return Case(DeviceTopicKind.Level, """{"Level": 3}""", "Instruction_Ref is required");
        yield return Case(DeviceTopicKind.Usage, """{"Used": 3}""", "Instruction_Ref is required");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5}""", "Level is required");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": -1}""", "Level must be a finite number between 0 and 1000000000");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": 1000000001}""", "Level must be a finite number between 0 and 1000000000");
        yield return Case(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": 1e400}""", "Level must be a finite number between 0 and 1000000000");
        yield return Case(DeviceTopicKind.Usage, """{"Instruction_Ref": 5, "Used": -0.5}""", "Used must be a finite number between 0 and 1000000000");
    }

    public static IEnumerable<TestCaseData> InvalidUtf8()
    {
        yield return new TestCaseData((object)new byte[] { 0xFF }).SetName("A lone 0xFF byte is not valid JSON");
        yield return new TestCaseData((object)Utf8("{\"", [0xFF], "\": 1}")).SetName("A property name that is not UTF-8 is not valid JSON");
        yield return new TestCaseData((object)Utf8("{\"RequestId\": \"", [0xC3], "\"}")).SetName("A RequestId that is not UTF-8 is not valid JSON");
        yield return new TestCaseData((object)Utf8("{\"Instruction_Ref\": \"", [0xC3, 0x28], "\"}")).SetName("An Instruction_Ref that is not UTF-8 is not valid JSON");
        yield return new TestCaseData((object)Utf8("{\"Instruction_Ref\": 5, \"Note\": \"x", [0xC3, 0x28], "\"}")).SetName("An ignored field's value that is not UTF-8 is not valid JSON");
        yield return new TestCaseData((object)Utf8("{\"Instruction_Ref\": 5, \"No", [0xC3, 0x28], "te\": 1}")).SetName("An ignored field's name that is not UTF-8 is not valid JSON");
    }

    [TestCaseSource(nameof(ContractExamples))]
    public void A_valid_payload_parses_to_its_typed_request(DeviceTopicKind kind, string payload, DeviceRequest expected)
    {
        var request = Parse(kind, Encoding.UTF8.GetBytes(payload));

        Assert.That(request, Is.EqualTo(expected));
        Assert.That(request.Kind, Is.EqualTo(kind));
    }

    [TestCaseSource(nameof(MalformedPayloads))]
    public void A_malformed_payload_is_refused_with_the_contract_reason(DeviceTopicKind kind, string payload, string reason) =>
        Assert.That(Refuse(kind, Encoding.UTF8.GetBytes(payload)).Reason, Is.EqualTo(reason));

    [TestCaseSource(nameof(InvalidUtf8))]
    public void A_payload_that_is_not_UTF8_is_refused_as_not_JSON(byte[] payload)
    {
        Assert.That(Refuse(DeviceTopicKind.Trigger, payload).Reason, Is.EqualTo("payload is not valid JSON"));
        Assert.That(Refuse(DeviceTopicKind.Level, payload).Reason, Is.EqualTo("payload is not valid JSON"));
    }

    [Test]
    public void Each_typed_request_names_its_kind_and_instruction()
    {
        Assert.That((new TriggerRequest(null).Kind, new TriggerRequest(null).NamedInstructionRef), Is.EqualTo((DeviceTopicKind.Trigger, (long?)null)));
        Assert.That((new TriggerRequest(7).Kind, new TriggerRequest(7).NamedInstructionRef), Is.EqualTo((DeviceTopicKind.Trigger, (long?)7)));
        Assert.That((new LevelReport(8, 1).Kind, new LevelReport(8, 1).NamedInstructionRef), Is.EqualTo((DeviceTopicKind.Level, (long?)8)));
        Assert.That((new UsageReport(9, 1).Kind, new UsageReport(9, 1).NamedInstructionRef), Is.EqualTo((DeviceTopicKind.Usage, (long?)9)));
    }

    [Test]
    public void A_payload_of_exactly_1_KB_is_accepted_and_one_byte_more_is_not()
    {
        var json = """{"Instruction_Ref": 5, "RequestId": "big"}""";
        var exact = Encoding.UTF8.GetBytes(json.PadRight(DeviceRequestParser.MaxPayloadBytes));

        Assert.That(Parse(DeviceTopicKind.Trigger, exact), Is.EqualTo(new TriggerRequest(5) { RequestId = "big" }));
        Assert.That(
            Refuse(DeviceTopicKind.Trigger, Encoding.UTF8.GetBytes(json.PadRight(DeviceRequestParser.MaxPayloadBytes + 1))),
            Is.EqualTo(new MalformedRequest("payload larger than 1 KB", "big", null)));
    }

    [Test]
    public void A_RequestId_of_the_maximum_length_is_kept()
    {
        var requestId = new string('r', RequestIds.MaxLength);

        Assert.That(Parse(DeviceTopicKind.Trigger, Encoding.UTF8.GetBytes($$"""{"RequestId": "{{requestId}}"}""")).RequestId, Is.EqualTo(requestId));
    }

    [Test]
    public void A_malformed_payload_reports_a_string_RequestId_that_follows_the_error() =>
        Assert.That(
            Refuse(DeviceTopicKind.Level, """{"Instruction_Ref": 5, "Level": "x", "RequestId": "a1"}"""u8.ToArray()),
            Is.EqualTo(new MalformedRequest("Level must be a number", "a1", 5)));

    [Test]
    public void A_malformed_payload_reports_a_numeric_RequestId_as_its_literal_text() =>
        Assert.That(
            Refuse(DeviceTopicKind.Level, """{"Level": -1, "Instruction_Ref": 5, "RequestId": 42}"""u8.ToArray()),
            Is.EqualTo(new MalformedRequest("Level must be a finite number between 0 and 1000000000", "42", 5)));

    [Test]
    public void Only_an_Instruction_Ref_read_before_the_error_is_reported() =>
        Assert.That(
            Refuse(DeviceTopicKind.Level, """{"Level": "x", "Instruction_Ref": 5, "RequestId": "a1"}"""u8.ToArray()),
            Is.EqualTo(new MalformedRequest("Level must be a number", "a1", null)));

    [Test]
    public void A_RequestId_read_before_the_JSON_breaks_is_reported() =>
        Assert.That(
            Refuse(DeviceTopicKind.Level, """{"RequestId": "a1", "Instruction_Ref": 5, "Level": """u8.ToArray()),
            Is.EqualTo(new MalformedRequest("payload is not valid JSON", "a1", 5)));

    [Test]
    public void A_RequestId_after_the_JSON_breaks_is_not_reported() =>
        Assert.That(
            Refuse(DeviceTopicKind.Level, """{"Level": x, "RequestId": "a1"}"""u8.ToArray()),
            Is.EqualTo(new MalformedRequest("payload is not valid JSON", null, null)));

    [Test]
    public void A_too_long_RequestId_is_not_echoed_in_the_error() =>
        Assert.That(
            Refuse(DeviceTopicKind.Trigger, Encoding.UTF8.GetBytes($$"""{"Instruction_Ref": 5, "RequestId": "{{TooLongRequestId}}"}""")),
            Is.EqualTo(new MalformedRequest("RequestId longer than 128 characters", null, 5)));

    [Test]
    public void A_payload_on_a_topic_that_takes_no_requests_still_reports_its_RequestId() =>
        Assert.That(
            Refuse(DeviceTopicKind.Ack, """{"Instruction_Ref": 5, "RequestId": "a1"}"""u8.ToArray()),
            Is.EqualTo(new MalformedRequest("not a request topic", "a1", null)));

    [Test]
    public void A_bad_bare_trigger_reports_nothing_but_its_reason() =>
        Assert.That(
            Refuse(DeviceTopicKind.Trigger, "12a"u8.ToArray()),
            Is.EqualTo(new MalformedRequest("a bare payload must be a positive decimal Instruction_Ref", null, null)));

    private static DeviceRequest Parse(DeviceTopicKind kind, byte[] payload)
    {
        Assert.That(DeviceRequestParser.TryParse(kind, payload, out var request, out var error), Is.True, () => "refused: " + error?.Reason);
        Assert.That(error, Is.Null);
        return request!;
    }

    private static MalformedRequest Refuse(DeviceTopicKind kind, byte[] payload)
    {
        Assert.That(DeviceRequestParser.TryParse(kind, payload, out var request, out var error), Is.False, () => "accepted: " + request);
        Assert.That(request, Is.Null);
        return error!;
    }

    private static byte[] Utf8(string before, byte[] raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];
}
