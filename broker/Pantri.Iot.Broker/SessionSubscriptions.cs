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

    // One small list rather than a dictionary of the granted filters and a set of the admitted ones: a device holds one
    // filter, and this object lives as long as its session, so its size is memory per connected device. The quota
    // (MaxSubscriptionsPerClient) bounds the length and so the linear searches.
    private readonly List<Filter> _filters = new(1);

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
            if (IndexOf(filter) >= 0)
            {
                return true;
            }

            if (_filters.Count >= maxFilters)
            {
                return false;
            }

            _filters.Add(new Filter(filter, MqttQualityOfServiceLevel.AtMostOnce, RetainAsPublished: false, Granted: false));
            return true;
        }
    }

    /// <summary>Records a granted subscription (a repeated SUBSCRIBE replaces it, as MQTT requires); true when the
    /// session did not hold it granted before (a new subscription, for MQTT 5 retain handling).</summary>
    public bool Add(string filter, MqttQualityOfServiceLevel granted, bool retainAsPublished)
    {
        lock (_lock)
        {
            var entry = new Filter(filter, granted, retainAsPublished, Granted: true);
            var index = IndexOf(filter);
            if (index < 0)
            {
                _filters.Add(entry);
                return true;
            }

            var isNew = !_filters[index].Granted;
            _filters[index] = entry;
            return isNew;
        }
    }

    /// <summary>Forgets a filter (and frees its place in the quota).</summary>
    public void Remove(string filter)
    {
        lock (_lock)
        {
            var index = IndexOf(filter);
            if (index >= 0)
            {
                _filters.RemoveAt(index);
            }
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
            foreach (var filter in _filters)
            {
                if (filter.Granted && MqttTopicFilterComparer.Compare(topic, filter.Topic) == MqttTopicFilterCompareResult.IsMatch)
                {
                    matched = true;
                    granted = filter.Qos > granted ? filter.Qos : granted;
                    retainAsPublished |= filter.RetainAsPublished;
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

    private int IndexOf(string topic)
    {
        for (var i = 0; i < _filters.Count; i++)
        {
            if (string.Equals(_filters[i].Topic, topic, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A filter in the quota; <see cref="Granted"/> once MQTTnet reported it subscribed.</summary>
    private readonly record struct Filter(string Topic, MqttQualityOfServiceLevel Qos, bool RetainAsPublished, bool Granted);
}
