
namespace Pantri.Iot.Contract.Tests;

public sealed class DeviceIdsTests
{
    [TestCase("demo-button")]
    [TestCase("abc")]
    [TestCase("0-9")]
    public void A_lowercase_id_of_3_to_64_characters_is_valid(string deviceId) =>
        Assert.That(DeviceIds.IsValid(deviceId), Is.True);

    [TestCase("demo-button\n", TestName = "A trailing newline is invalid")]
    [TestCase("demo-button ", TestName = "A trailing space is invalid")]
    [TestCase(" demo-button", TestName = "A leading space is invalid")]
    [TestCase("Demo-button", TestName = "Uppercase is invalid")]
    [TestCase("-demo", TestName = "A leading hyphen is invalid")]
    [TestCase("ab", TestName = "Two characters are too short")]
    [TestCase("demo/button", TestName = "A slash is invalid")]
    [TestCase("demo+", TestName = "A plus is invalid")]
    [TestCase("demo#", TestName = "A hash is invalid")]
    [TestCase("", TestName = "Empty is invalid")]
    public void An_id_outside_the_pattern_is_invalid(string deviceId) =>
        Assert.That(DeviceIds.IsValid(deviceId), Is.False);

    [Test]
    public void Sixty_four_characters_are_valid_and_sixty_five_are_not()
    {
        Assert.That(DeviceIds.IsValid(new string('a', 64)), Is.True);
        Assert.That(DeviceIds.IsValid(new string('a', 65)), Is.False);
    }

    [Test]
    public void Null_is_invalid() => Assert.That(DeviceIds.IsValid(null), Is.False);

    [TestCase("ops-dashboard", TestName = "An id in the ops namespace is invalid")]
    [TestCase("ops-1", TestName = "A short id in the ops namespace is invalid")]
    [TestCase("prov-7kq2m9xd", TestName = "An id in the provisioning namespace is invalid")]
    public void An_id_in_a_reserved_namespace_is_invalid(string deviceId)
    {
        Assert.That(DeviceIds.IsReserved(deviceId), Is.True);
        Assert.That(DeviceIds.IsValid(deviceId), Is.False);
    }

    [TestCase("ops", TestName = "ops alone is a device id")]
    [TestCase("opsroom-jar", TestName = "An id that only starts with ops is a device id")]
    [TestCase("provider-1", TestName = "An id that only starts with prov is a device id")]
    [TestCase("kitchen-ops-1", TestName = "ops- inside an id is a device id")]
    public void An_id_that_merely_resembles_a_reserved_prefix_is_valid(string deviceId)
    {
        Assert.That(DeviceIds.IsReserved(deviceId), Is.False);
        Assert.That(DeviceIds.IsValid(deviceId), Is.True);
    }
}
