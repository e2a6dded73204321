namespace Pantri.Iot.Broker.Transport;

/// <summary>One live connection of <see cref="GuardedTcpServerAdapter"/> (TCP or WebSocket): what its CONNECT packet
/// said and who it authenticated as, for the broker's checks that MQTTnet's events do not carry.</summary>
internal sealed class GuardedConnection(MqttFrameGuardStream stream, Action abort)
{
    /// <summary>What the CONNECT said about its Will; null until a CONNECT was read (or when it was malformed).</summary>
    public ConnectPacketInfo? Connect => stream.Connect;

    /// <summary>The identity the CONNECT was validated as; null until then.</summary>
    public ClientIdentity? Identity { get; set; }

    /// <summary>Closes the connection at once (no DISCONNECT); MQTTnet sees its transport fail and cleans up.</summary>
    public void Abort() => abort();
}
