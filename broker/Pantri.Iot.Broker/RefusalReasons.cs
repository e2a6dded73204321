namespace Pantri.Iot.Broker;

/// <summary>The reasons <see cref="RefusalLog"/> counts and aggregates; the names appear in the log.</summary>
internal static class RefusalReasons
{
    /// <summary>A connection closed at accept: the total connection cap is reached.</summary>
    public const string ConnectionCap = "connection-cap";

    /// <summary>A connection closed at accept: its source address has its cap of connections.</summary>
    public const string AddressCap = "address-connection-cap";

    /// <summary>A connection closed because its CONNECT did not arrive within the CONNECT timeout.</summary>
    public const string ConnectTimeout = "connect-timeout";

    /// <summary>A connection closed because its first packet was not a CONNECT or was too large.</summary>
    public const string BadFirstPacket = "bad-first-packet";

    /// <summary>A connection to the TLS port closed because its TLS handshake failed (plain MQTT, TLS below 1.2, a
    /// client that does not trust the certificate).</summary>
    public const string TlsHandshake = "tls-handshake";

    /// <summary>Accepting a connection failed (e.g. out of file descriptors).</summary>
    public const string AcceptFailed = "accept-failed";

    /// <summary>A CONNECT refused at CONNACK: the <c>MqttConnectReasonCode</c> is appended.</summary>
    public const string ConnectPrefix = "connect-";

    /// <summary>A PUBLISH refused.</summary>
    public const string Publish = "publish";

    /// <summary>A SUBSCRIBE refused: not authorised.</summary>
    public const string Subscribe = "subscribe";

    /// <summary>A queued message dropped because a client's queue was full (not a refusal, but as floody).</summary>
    public const string QueueOverflow = "queue-overflow";

    /// <summary>A SUBSCRIBE refused: the per-client subscription quota is used up.</summary>
    public const string SubscriptionQuota = "subscription-quota";
}
