using System.Diagnostics.Metrics;
using Pantri.Iot.Broker.Transport;

namespace Pantri.Iot.Broker;

/// <summary>The broker's instruments (meter <see cref="MeterName"/>): authenticated connections by client type,
/// retained messages held, refusals by reason and messages dropped from a full client queue. Connections are counted only when scraped (one
/// pass over the live connections), never on the connect path.</summary>
public sealed class BrokerMetrics
{
    /// <summary>The name of the broker's <see cref="Meter"/>.</summary>
    public const string MeterName = "Pantri.Iot.Broker";

    private static readonly KeyValuePair<string, object?> DeviceTag = new("pantri.client.type", "device");
    private static readonly KeyValuePair<string, object?> OpsTag = new("pantri.client.type", "ops");
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _dropped;

    internal BrokerMetrics(IMeterFactory meterFactory, GuardedTcpServerAdapter adapter, Func<int> retainedMessages)
    {
        var meter = meterFactory.Create(MeterName);
        _refusals = meter.CreateCounter<long>("pantri.mqtt.refusals", "{refusal}", "Connections, CONNECTs, PUBLISHes and SUBSCRIBEs the broker refused, by reason (connect-bad-credentials, connect-throttled, connect-not-authorized, connect-timeout, connection-cap, address-connection-cap, bad-first-packet, tls-handshake, accept-failed, publish, subscribe, subscription-quota).");
        _dropped = meter.CreateCounter<long>("pantri.mqtt.messages.dropped", "{message}", "Outbound messages dropped because a client's queue was full (the oldest queued message is dropped).");
        meter.CreateObservableUpDownCounter("pantri.mqtt.connections", () =>
        {
            adapter.CountAuthenticated(out var devices, out var ops);
            return new[] { new Measurement<int>(devices, DeviceTag), new Measurement<int>(ops, OpsTag) };
        }, "{connection}", "Open MQTT connections that authenticated, by client type (device, ops).");
        meter.CreateObservableUpDownCounter("pantri.mqtt.retained.messages", retainedMessages, "{message}", "Retained messages the broker holds (ops presence, inventory and order state): what a new dashboard receives at SUBSCRIBE.");
    }

    /// <summary>Counts one refusal of <paramref name="reason"/> (a <see cref="RefusalReasons"/> name).</summary>
    internal void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("pantri.refusal.reason", reason));

    /// <summary>Counts one message dropped from a full client queue.</summary>
    internal void Dropped() => _dropped.Add(1);
}
