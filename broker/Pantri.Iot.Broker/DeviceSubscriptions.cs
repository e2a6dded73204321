using MQTTnet;
using MQTTnet.Protocol;

namespace Pantri.Iot.Broker;

/// <summary>The topic filters one session holds inside its device namespace, with their granted QoS. Kept in the
/// session's own items, so it lives and dies with the MQTTnet session (a clean-session reconnect starts empty, as
/// the broker's own subscriptions do). Written by that client's SUBSCRIBE/UNSUBSCRIBE, read by any publisher.</summary>
internal sealed class DeviceSubscriptions
{
    /// <summary>Key in <c>SessionItems</c>.</summary>
    public const string SessionKey = "pantri.deviceSubscriptions";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, MqttQualityOfServiceLevel> _filters = new(StringComparer.Ordinal);

    /// <summary>Records a granted subscription (a repeated SUBSCRIBE replaces the QoS, as MQTT requires).</summary>
    public void Add(string filter, MqttQualityOfServiceLevel granted)
    {
        lock (_lock)
        {
            _filters[filter] = granted;
        }
    }

    /// <summary>Forgets a filter.</summary>
    public void Remove(string filter)
    {
        lock (_lock)
        {
            _filters.Remove(filter);
        }
    }

    /// <summary>True when some filter matches <paramref name="topic"/>; <paramref name="granted"/> is the highest
    /// QoS among the matches (MQTT delivers an overlapping match once, at the maximum).</summary>
    public bool TryMatch(string topic, out MqttQualityOfServiceLevel granted)
    {
        granted = MqttQualityOfServiceLevel.AtMostOnce;
        var matched = false;
        lock (_lock)
        {
            foreach (var (filter, qos) in _filters)
            {
                if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch)
                {
                    matched = true;
                    granted = qos > granted ? qos : granted;
                }
            }
        }

        return matched;
    }
}
