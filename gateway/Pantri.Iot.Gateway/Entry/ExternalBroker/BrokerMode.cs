namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>Which broker devices connect to.</summary>
public enum BrokerMode
{
    /// <summary>The gateway's own MQTTnet broker (the default: one process, nothing else to run).</summary>
    Embedded,

    /// <summary>An MQTT 5 broker run separately (Mosquitto, EMQX, HiveMQ…); the gateway is its client and runs no
    /// MQTT listener, so several gateways can share the devices' requests.</summary>
    External,
}
