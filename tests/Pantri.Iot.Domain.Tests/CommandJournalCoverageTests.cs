using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Pantri.Iot.Domain.Tests;

/// <summary>The undo journal snapshots entities field by field, so a property added to an entity and forgotten in the
/// journal would survive a rollback. These tests change every settable property of a journaled entity, roll back, and
/// expect the entity exactly as before — a new property fails them until the journal covers it.</summary>
public sealed class CommandJournalCoverageTests
{
    private const long Jar = 987654321;
    private const long Button = 123456789;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));
    private long _refs = 1000;
    private ReplenishmentLedger _ledger = null!;

    [SetUp]
    public void CreateLedger() => _ledger = new ReplenishmentLedger(
        [new Device { DeviceId = "demo-jar", AccountId = "demo" }, new Device { DeviceId = "demo-button", AccountId = "demo" }],
        [
            new Instruction
            {
                Ref = Jar, AccountId = "demo", Product = "Cookies", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-jar"],
                Tracking = new Tracking { Level = 12, ReorderAt = 5, Hysteresis = 2, UnitsPerPack = 12 },
            },
            new Instruction { Ref = Button, AccountId = "demo", Product = "Tablets", Retailer = "shop", Quantity = 1, DeviceIds = ["demo-button"] },
        ],
        []);

    [Test]
    public void Every_property_of_an_instruction_and_its_tracking_is_put_back_by_a_rollback()
    {
        var instruction = _ledger.Instructions[Jar];
        var before = JsonSerializer.Serialize(instruction);

        _ledger.ReportLevel(new Actor("demo", "demo-jar", "level"), Jar, 11, NextRef, NextRef(), _time.GetUtcNow());
        var changed = ChangeEverySettableProperty(instruction) + ChangeEverySettableProperty(instruction.Tracking!);
        _ledger.RollbackCommand();

        Assert.That(changed, Is.GreaterThan(10), "the test changed the entity's properties");
        Assert.That(JsonSerializer.Serialize(instruction), Is.EqualTo(before));
    }

    [Test]
    public void Every_property_of_an_order_is_put_back_by_a_rollback()
    {
        var order = _ledger.Trigger(new Actor("demo", "demo-button", "trigger"), Button, NextRef, NextRef(), _time.GetUtcNow()).PlacedOrder!;
        _ledger.AcceptChanges();
        var before = JsonSerializer.Serialize(order);

        _ledger.MoveOrder("demo", order.Ref, OrderState.Cancelled, "user", _time.GetUtcNow().AddMinutes(1));
        var changed = ChangeEverySettableProperty(order);
        _ledger.RollbackCommand();

        Assert.That(changed, Is.GreaterThan(10), "the test changed the entity's properties");
        Assert.That(JsonSerializer.Serialize(order), Is.EqualTo(before));
        Assert.That(_ledger.OpenOrderFor(Button), Is.SameAs(order), "and the open-order index");
    }

    [Test]
    public void Every_property_of_a_households_safeguards_is_put_back_by_a_rollback()
    {
        var spec = new HouseholdSafeguardsSpec(ApprovalRequired: false, PausedUntil: null, MonthlySpendLimit: 60m, Currency: "EUR");
        Assert.That(_ledger.ConfigureSafeguards("demo", spec, _time.GetUtcNow()).IsSuccess, Is.True);
        _ledger.AcceptChanges();
        var safeguards = _ledger.SafeguardsOf("demo")!;
        var before = JsonSerializer.Serialize(safeguards);

        _ledger.ConfigureSafeguards("demo", spec with { MonthlySpendLimit = 70m }, _time.GetUtcNow());
        var changed = ChangeEverySettableProperty(safeguards);
        _ledger.RollbackCommand();

        Assert.That(changed, Is.GreaterThanOrEqualTo(7), "the test changed the entity's properties");
        Assert.That(JsonSerializer.Serialize(safeguards), Is.EqualTo(before));
    }

    [Test]
    public void Safeguards_a_command_created_disappear_with_its_rollback()
    {
        _ledger.ConfigureSafeguards("demo", new HouseholdSafeguardsSpec(true, null, null, null), _time.GetUtcNow());
        _ledger.RollbackCommand();

        Assert.That(_ledger.SafeguardsOf("demo"), Is.Null);
    }

    [Test]
    public void Every_property_of_a_device_is_put_back_by_a_rollback()
    {
        var device = _ledger.Devices["demo-button"];
        var before = JsonSerializer.Serialize(device);

        _ledger.RotateDeviceKey("demo", "demo-button", "new-hash", _time.GetUtcNow());
        var changed = ChangeEverySettableProperty(device);
        _ledger.RollbackCommand();

        Assert.That(changed, Is.GreaterThanOrEqualTo(6), "the test changed the entity's properties");
        Assert.That(JsonSerializer.Serialize(device), Is.EqualTo(before));
    }

    [Test]
    public void Every_property_of_a_household_and_a_user_is_put_back_by_a_rollback_of_their_deletion()
    {
        _ledger.CreateHousehold("demo", "Demo", _time.GetUtcNow());
        _ledger.AddUser("demo", "alice", UserRole.Owner, _time.GetUtcNow());
        _ledger.AcceptChanges();
        var household = _ledger.Households["demo"];
        var user = _ledger.Users["demo/alice"];
        var before = JsonSerializer.Serialize(household) + JsonSerializer.Serialize(user);

        _ledger.DeleteHousehold("demo", _time.GetUtcNow());
        var changed = ChangeEverySettableProperty(household) + ChangeEverySettableProperty(user);
        _ledger.RollbackCommand();

        Assert.That(changed, Is.GreaterThanOrEqualTo(8), "the test changed the entities' properties");
        Assert.That(JsonSerializer.Serialize(household) + JsonSerializer.Serialize(user), Is.EqualTo(before));
        Assert.That(_ledger.HouseholdOf("demo"), Is.SameAs(household), "the household is back");
        Assert.That(_ledger.Users["demo/alice"], Is.SameAs(user), "its user is back");
        Assert.That(_ledger.DevicesOf("demo").Count(), Is.EqualTo(2), "its devices are not revoked");
        Assert.That(_ledger.Instructions.Keys, Is.EquivalentTo(new[] { Jar, Button }), "its instructions are back");
        Assert.That(_ledger.InstructionsPairedWith("demo-jar"), Is.EqualTo(new[] { Jar }), "with their pairings");
    }

    [Test]
    public void Every_property_of_a_pairing_code_is_put_back_by_a_rollback_of_its_redemption()
    {
        _ledger.CreateHousehold("demo", "Demo", _time.GetUtcNow());
        _ledger.CreatePairingCode("demo", "code-hash", "Scale", [Jar], "alice", _time.GetUtcNow(), _time.GetUtcNow().AddMinutes(10));
        _ledger.AcceptChanges();
        var code = _ledger.PairingCodes["code-hash"];
        var before = JsonSerializer.Serialize(code);

        var redeemed = _ledger.RedeemPairingCode("code-hash", "d-new", "key-hash", _time.GetUtcNow());
        var changed = ChangeEverySettableProperty(code);
        _ledger.RollbackCommand();

        Assert.That(redeemed.IsSuccess, Is.True);
        Assert.That(changed, Is.GreaterThanOrEqualTo(6), "the test changed the entity's properties");
        Assert.That(JsonSerializer.Serialize(code), Is.EqualTo(before));
        Assert.That(_ledger.PairingCodes["code-hash"], Is.SameAs(code), "the code can be used again");
        Assert.That(_ledger.Devices.ContainsKey("d-new"), Is.False, "the device it made is gone");
        Assert.That(_ledger.InstructionsPairedWith("d-new"), Is.Empty, "and so is its pairing");
    }

    private long NextRef() => ++_refs;

    // What a future code path might do to the entity after the journal took its snapshot. Ref and DeviceId stay: they
    // are the keys the ledger indexes by.
    private static int ChangeEverySettableProperty(object entity)
    {
        var changed = 0;
        foreach (var property in entity.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.Name is not ("Ref" or "DeviceId")))
        {
            var type = property.PropertyType;
            var value = property.GetValue(entity);
            object? next = type switch
            {
                _ when type == typeof(string) => value + "-changed",
                _ when type == typeof(long) => (long)value! + 1,
                _ when type == typeof(int) => (int)value! + 1,
                _ when type == typeof(double) => (double)value! + 1,
                _ when type == typeof(double?) => ((double?)value ?? 0) + 1,
                _ when type == typeof(bool) => !(bool)value!,
                _ when type == typeof(bool?) => !((bool?)value ?? false),
                _ when type == typeof(decimal) => (decimal)value! + 1.25m,
                _ when type == typeof(decimal?) => ((decimal?)value ?? 0m) + 1.25m,
                _ when type == typeof(DateTimeOffset) => (DateTimeOffset)value! + TimeSpan.FromHours(1),
                _ when type == typeof(DateTimeOffset?) => ((DateTimeOffset?)value ?? DateTimeOffset.UnixEpoch) + TimeSpan.FromHours(1),
                _ when type.IsEnum => Enum.GetValues(type).Cast<object>().First(v => !v.Equals(value)),
                _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) => Activator.CreateInstance(type),
                _ => null,
            };
            if (next is null)
            {
                continue;
            }

            property.SetValue(entity, next);
            changed++;
        }

        return changed;
    }
}
