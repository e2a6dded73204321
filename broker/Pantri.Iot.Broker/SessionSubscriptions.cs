using MQTTnet;
using MQTTnet.Protocol;

namespace Pantri.Iot.Broker;

/// <summary>The topic filters one session holds, with their granted QoS and MQTT 5 Retain-As-Published flag. Kept in
/// the session's own items, so it lives and dies with the MQTTnet session (a clean-session reconnect starts empty, as
/// the broker's own subscriptions do). Written by that client's SUBSCRIBE/UNSUBSCRIBE, read by any publisher. The
/// authoriser confines a device to its own namespace and ops to the ops topics, so these are the filters that decide
/// delivery there.</summary>
internal sealed class SessionSubscriptions(string clientId)
{
    /// <summary>Key in <c>SessionItems</c>.</summary>
    public const string SessionKey = "pantri.subscriptions";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (MqttQualityOfServiceLevel Granted, bool RetainAsPublished)> _filters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _admitted = new(StringComparer.Ordinal);

    /// <summary>The session's client id.</summary>
    public string ClientId { get; } = clientId;

    /// <summary>Admits <paramref name="filter"/> into the session's quota at SUBSCRIBE interception, before MQTTnet
    /// creates it: true when the session already holds it (a repeated SUBSCRIBE replaces, it does not add) or holds
    /// fewer than <paramref name="maxFilters"/>. Counted here rather than from <see cref="Add"/>, because MQTTnet
    /// intercepts every filter of a SUBSCRIBE packet before it reports any of them subscribed.</summary>
    public bool TryAdmit(string filter, int maxFilters)
    {
        lock (_lock)
        {
            return _admitted.Contains(filter) || (_admitted.Count < maxFilters && _admitted.Add(filter));
        }
    }

    /// <summary>Records a granted subscription (a repeated SUBSCRIBE replaces it, as MQTT requires).</summary>
    public void Add(string filter, MqttQualityOfServiceLevel granted, bool retainAsPublished)
    {
        lock (_lock)
        {
            _filters[filter] = (granted, retainAsPublished);
            _admitted.Add(filter);
        }
    }

    /// <summary>Forgets a filter (and frees its place in the quota).</summary>
    public void Remove(string filter)
    {
        lock (_lock)
        {
            _filters.Remove(filter);
            _admitted.Remove(filter);
        }
    }

    /// <summary>True when some filter matches <paramref name="topic"/>; <paramref name="granted"/> is the highest
    /// QoS among the matches (MQTT delivers an overlapping match once, at the maximum) and
    /// <paramref name="retainAsPublished"/> whether any match asked to see the retain flag as published.</summary>
    public bool TryMatch(string topic, out MqttQualityOfServiceLevel granted, out bool retainAsPublished)
    {
        granted = MqttQualityOfServiceLevel.AtMostOnce;
        retainAsPublished = false;
        var matched = false;
        lock (_lock)
        {
            foreach (var (filter, (qos, rap)) in _filters)
            {
                if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch)
                {
                    matched = true;
                    granted = qos > granted ? qos : granted;
                    retainAsPublished |= rap;
                }
            }
        }

        return matched;
    }

    /// <summary>The subscriptions of the session behind <paramref name="items"/>, created on first use.</summary>
    public static SessionSubscriptions Of(System.Collections.IDictionary items, string clientId)
    {
        if (items[SessionKey] is not SessionSubscriptions subscriptions)
        {
            subscriptions = new SessionSubscriptions(clientId);
            items[SessionKey] = subscriptions;
        }

        return subscriptions;
    }
}
