using Pantri.Iot.Contract;

namespace Pantri.Iot.Domain.Tests;

/// <summary>The one place input is validated: what a household may ask for, field by field, named as the caller
/// named it.</summary>
public sealed class InputValidationTests
{
    private static readonly TrackingSpec GoodTracking = new(5, "count", 12, 2, 1, 12);
    private static readonly InstructionSpec Good = new("Cookies", "shop", 1, ["demo-jar"], GoodTracking);

    [Test]
    public void A_good_spec_has_no_error()
    {
        Assert.That(Good.Validate(), Is.Null);
        Assert.That(GoodTracking.Validate(), Is.Null);
    }

    [TestCaseSource(nameof(BadInstructions))]
    public void A_bad_instruction_names_its_field(InstructionSpec spec, string field) =>
        Assert.That(spec.Validate()?.Field, Is.EqualTo(field));

    [TestCaseSource(nameof(BadTracking))]
    public void Bad_tracking_names_its_field_alone_and_inside_an_instruction(TrackingSpec spec, string field)
    {
        Assert.That(spec.Validate()?.Field, Is.EqualTo(field));
        Assert.That((Good with { Tracking = spec }).Validate()?.Field, Is.EqualTo("Tracking." + field));
    }

    [Test]
    public void The_ledger_refuses_a_bad_spec_with_400_before_changing_anything()
    {
        var ledger = new ReplenishmentLedger([new Device { DeviceId = "demo-jar", AccountId = "demo" }], [], []);

        var created = ledger.CreateInstruction("demo", Good with { DeviceIds = ["demo-jar", null!] }, () => 42, DateTimeOffset.UnixEpoch);
        var nullSpec = ledger.CreateInstruction("demo", null!, () => 43, DateTimeOffset.UnixEpoch);

        Assert.That(created.Status, Is.EqualTo(AckIds.Malformed));
        Assert.That(created.Field, Is.EqualTo("DeviceIds[1]"));
        Assert.That(nullSpec.Status, Is.EqualTo(AckIds.Malformed));
        Assert.That(ledger.Instructions, Is.Empty);
        Assert.That(ledger.PendingChanges, Is.Empty);
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(-1)]
    [TestCase(1e10)]
    public void The_ledger_refuses_a_level_or_usage_that_is_not_a_sane_number(double value)
    {
        var ledger = new ReplenishmentLedger(
            [new Device { DeviceId = "demo-jar", AccountId = "demo" }],
            [new Instruction { Ref = 7, AccountId = "demo", DeviceIds = ["demo-jar"], Tracking = new Tracking { Level = 12, ReorderAt = 5 } }],
            []);
        var jar = new Actor("demo", "demo-jar", "level");

        var level = ledger.ReportLevel(jar, 7, value, () => 1, 2, DateTimeOffset.UnixEpoch);
        var usage = ledger.ReportUsage(jar, 7, value, () => 1, 2, DateTimeOffset.UnixEpoch);

        Assert.That(level.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(usage.Id, Is.EqualTo(AckIds.Malformed));
        Assert.That(ledger.Instructions[7].Tracking!.Level, Is.EqualTo(12));
        Assert.That(ledger.PendingChanges, Is.Empty);
    }

    private static IEnumerable<TestCaseData> BadInstructions()
    {
        yield return new TestCaseData(Good with { Product = null! }, "Product");
        yield return new TestCaseData(Good with { Product = "" }, "Product");
        yield return new TestCaseData(Good with { Product = "   " }, "Product");
        yield return new TestCaseData(Good with { Product = new string('x', 201) }, "Product");
        yield return new TestCaseData(Good with { Product = "Tea\u0007" }, "Product");
        yield return new TestCaseData(Good with { Retailer = "" }, "Retailer");
        yield return new TestCaseData(Good with { Quantity = 0 }, "Quantity");
        yield return new TestCaseData(Good with { Quantity = 10_001 }, "Quantity");
        yield return new TestCaseData(Good with { DeviceIds = null! }, "DeviceIds");
        yield return new TestCaseData(Good with { DeviceIds = [null!] }, "DeviceIds[0]");
        yield return new TestCaseData(Good with { DeviceIds = ["demo-jar", "demo-jar\n"] }, "DeviceIds[1]");
        yield return new TestCaseData(Good with { DeviceIds = Enumerable.Range(0, 33).Select(i => $"device-{i}").ToList() }, "DeviceIds");
    }

    private static IEnumerable<TestCaseData> BadTracking()
    {
        yield return new TestCaseData(GoodTracking with { ReorderAt = double.NaN }, "ReorderAt");
        yield return new TestCaseData(GoodTracking with { ReorderAt = double.PositiveInfinity }, "ReorderAt");
        yield return new TestCaseData(GoodTracking with { ReorderAt = -1 }, "ReorderAt");
        yield return new TestCaseData(GoodTracking with { ReorderAt = 2e9 }, "ReorderAt");
        yield return new TestCaseData(GoodTracking with { Unit = null! }, "Unit");
        yield return new TestCaseData(GoodTracking with { Unit = "" }, "Unit");
        yield return new TestCaseData(GoodTracking with { Unit = new string('g', 33) }, "Unit");
        yield return new TestCaseData(GoodTracking with { UnitsPerPack = double.NegativeInfinity }, "UnitsPerPack");
        yield return new TestCaseData(GoodTracking with { UnitsPerPack = -1 }, "UnitsPerPack");
        yield return new TestCaseData(GoodTracking with { Hysteresis = double.NaN }, "Hysteresis");
        yield return new TestCaseData(GoodTracking with { Debounce = 0 }, "Debounce");
        yield return new TestCaseData(GoodTracking with { Debounce = 101 }, "Debounce");
        yield return new TestCaseData(GoodTracking with { Level = double.NaN }, "Level");
        yield return new TestCaseData(GoodTracking with { Level = -0.1 }, "Level");
    }
}
