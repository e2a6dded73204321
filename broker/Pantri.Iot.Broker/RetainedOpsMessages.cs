using System.Collections.Concurrent;
using MQTTnet;

namespace Pantri.Iot.Broker;

/// <summary>The retained ops messages (presence, inventory, open orders: one per device, instruction and order), kept
/// here instead of in MQTTnet's retained store. MQTTnet copies its whole retained store on every SUBSCRIBE, whatever the
/// subscription's retain handling (<c>MqttClientSubscriptionsManager.Subscribe</c> in 5.2): with a retained message per
/// device, each device's SUBSCRIBE cost a copy of the fleet's state (a large-object allocation, under the store's lock),
/// and a reconnect storm paid that once per device. Only ops clients may subscribe where these messages live, so
/// <see cref="EmbeddedMqttServer"/> hands them to late ops subscribers itself; MQTTnet's store stays empty (no client may
/// publish a retained message: requests are never routed).</summary>
internal sealed class RetainedOpsMessages
{
    private readonly ConcurrentDictionary<string, MqttApplicationMessage> _messages = new(StringComparer.Ordinal);

    /// <summary>How many topics hold a retained message.</summary>
    public int Count => _messages.Count;

    /// <summary>Keeps <paramref name="message"/> as its topic's retained message; an empty payload clears the topic, as
    /// MQTT defines.</summary>
    public void Set(MqttApplicationMessage message)
    {
        if (message.Payload.IsEmpty)
        {
            _messages.TryRemove(message.Topic, out _);
        }
        else
        {
            _messages[message.Topic] = message;
        }
    }

    /// <summary>The retained messages whose topic <paramref name="filter"/> matches (one pass over the store; only an ops
    /// SUBSCRIBE asks).</summary>
    public IEnumerable<MqttApplicationMessage> Matching(string filter) =>
        _messages.Values.Where(m => MqttTopicFilterComparer.Compare(m.Topic, filter) == MqttTopicFilterCompareResult.IsMatch);
}
