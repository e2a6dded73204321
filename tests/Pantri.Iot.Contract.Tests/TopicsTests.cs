
namespace Pantri.Iot.Contract.Tests;

public sealed class TopicsTests
{
    [TestCase(DeviceTopicKind.Trigger, "trigger")]
    [TestCase(DeviceTopicKind.Level, "level")]
    [TestCase(DeviceTopicKind.Usage, "usage")]
    [TestCase(DeviceTopicKind.Ack, "ack")]
    [TestCase(DeviceTopicKind.Orders, "orders")]
    public void Every_kind_has_its_contract_name_and_its_topic_parses_back(DeviceTopicKind kind, string name)
    {
        var topic = Topics.Device("demo-button", kind);

        Assert.That(Topics.Name(kind), Is.EqualTo(name));
        Assert.That(topic, Is.EqualTo("pantri/v1/devices/demo-button/" + name));
        Assert.That(Topics.TryParseDeviceTopic(topic, out var deviceId, out var parsed), Is.True);
        Assert.That((deviceId, parsed), Is.EqualTo(("demo-button", kind)));
    }

    [Test]
    public void An_undefined_kind_has_no_name() =>
        Assert.That(() => Topics.Name((DeviceTopicKind)99), Throws.TypeOf<ArgumentOutOfRangeException>());

    [TestCase("pantri/v1/devices/demo-button/trigger")]
    [TestCase("pantri/v1/devices/demo-button/status")]
    [TestCase("pantri/v1/devices/demo-button/replies/1")]
    [TestCase("pantri/v1/devices/demo-button/#")]
    [TestCase("pantri/v1/devices/demo-button/")]
    public void Any_topic_under_a_device_namespace_names_its_owner(string topic)
    {
        Assert.That(Topics.TryGetDeviceId(topic, out var deviceId), Is.True);
        Assert.That(deviceId, Is.EqualTo("demo-button"));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("pantri/v1/devices/demo-button")]
    [TestCase("pantri/v1/devices//trigger")]
    [TestCase("pantri/v1/devices/+/trigger")]
    [TestCase("pantri/v1/devices/#")]
    [TestCase("pantri/v1/devices/Demo-Button/trigger")]
    [TestCase("pantri/v1/ops/devices/demo-button")]
    [TestCase("pantri/v2/devices/demo-button/trigger")]
    public void A_topic_outside_any_valid_device_namespace_has_no_owner(string? topic)
    {
        Assert.That(Topics.TryGetDeviceId(topic, out var deviceId), Is.False);
        Assert.That(deviceId, Is.Empty);
    }

    [TestCase("pantri/v1/devices/demo-button/trigger/extra")]
    [TestCase("pantri/v1/devices/demo-button/status")]
    [TestCase("pantri/v1/devices/demo-button/+")]
    [TestCase("pantri/v1/devices/demo-button/")]
    public void Only_a_device_topic_of_a_known_kind_parses(string topic) =>
        Assert.That(Topics.TryParseDeviceTopic(topic, out _, out _), Is.False);

    [TestCase("pantri/v1/devices/demo-jar/replies")]
    [TestCase("pantri/v1/devices/demo-jar/a/b/c")]
    [TestCase("pantri/v1/devices/demo-jar/ack")]
    public void A_response_topic_inside_the_own_namespace_is_honoured(string responseTopic) =>
        Assert.That(Topics.IsOwnResponseTopic("demo-jar", responseTopic), Is.True);

    [TestCase(null, TestName = "No response topic")]
    [TestCase("pantri/v1/devices/demo-jar/", TestName = "The namespace prefix itself")]
    [TestCase("pantri/v1/devices/demo-jar", TestName = "The namespace without its slash")]
    [TestCase("pantri/v1/devices/demo-jar2/replies", TestName = "A device whose id starts with the own id")]
    [TestCase("pantri/v1/devices/demo-button/replies", TestName = "Another device's namespace")]
    [TestCase("pantri/v1/devices/demo-jar/+", TestName = "A single-level wildcard")]
    [TestCase("pantri/v1/devices/demo-jar/#", TestName = "A multi-level wildcard")]
    [TestCase("pantri/v1/ops/events", TestName = "The ops namespace")]
    public void A_response_topic_outside_the_own_namespace_is_ignored(string? responseTopic) =>
        Assert.That(Topics.IsOwnResponseTopic("demo-jar", responseTopic), Is.False);

    [TestCase("")]
    [TestCase("demo-jar/x")]
    [TestCase("+")]
    public void An_invalid_own_id_honours_no_response_topic(string deviceId) =>
        Assert.That(Topics.IsOwnResponseTopic(deviceId, "pantri/v1/devices/" + deviceId + "/replies"), Is.False);
}
