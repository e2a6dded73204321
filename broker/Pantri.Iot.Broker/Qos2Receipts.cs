using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Pantri.Iot.Broker;

/// <summary>Exactly-once for QoS 2 requests, which MQTTnet does not give: it dispatches a QoS 2 PUBLISH when it arrives
/// and again when the client resends it with the same packet id because the PUBREC was lost (dotnet/MQTTnet#1540).
/// Kept in the session's items, so it lives exactly as long as the MQTT session state it belongs to.</summary>
/// <remarks>Each arriving QoS 2 PUBLISH gets a <see cref="Qos2Receipt"/> keyed by its packet id until the client's
/// PUBREL releases the id. A PUBLISH under an id that is still awaiting PUBREL is a resend: it waits for the original's
/// outcome and is answered with the same PUBREC code without reaching the gateway again. When the original did not
/// complete (its handler failed, or its connection was taken over mid-request) the resend is handled as a new message,
/// and the request's RequestId is what prevents a second effect. At most <see cref="MaxAwaitingRelease"/> ids per
/// session wait for their PUBREL; beyond that the oldest is forgotten, so a client that never sends PUBREL cannot grow
/// this without bound.</remarks>
internal sealed class Qos2Receipts
{
    /// <summary>Key in <c>SessionItems</c>.</summary>
    public const string SessionKey = "pantri.qos2";

    /// <summary>Most packet ids of one session awaiting PUBREL.</summary>
    public const int MaxAwaitingRelease = 32;

    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, Qos2Receipt> _awaiting = [];
    private readonly Queue<ushort> _arrivals = new();

    /// <summary>The receipts of the session behind <paramref name="items"/>, created on first use.</summary>
    public static Qos2Receipts Of(System.Collections.IDictionary items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items is System.Collections.Concurrent.ConcurrentDictionary<object, object> concurrent)
        {
            // MQTTnet's session items: two connections of one session (a takeover) may race here.
            return (Qos2Receipts)concurrent.GetOrAdd(SessionKey, static _ => new Qos2Receipts());
        }

        if (items[SessionKey] is not Qos2Receipts receipts)
        {
            receipts = new Qos2Receipts();
            items[SessionKey] = receipts;
        }

        return receipts;
    }

    /// <summary>A QoS 2 PUBLISH with <paramref name="packetId"/> arrived. Returns the receipt that travels with it through
    /// MQTTnet (it replaces the packet's user properties and holds them): a new original, or a resend carrying the
    /// original's PUBREC code, once the original has one.</summary>
    public async Task<Qos2Receipt> ArriveAsync(ushort packetId, List<MqttUserProperty>? userProperties, CancellationToken cancellationToken)
    {
        while (true)
        {
            Qos2Receipt? original;
            lock (_lock)
            {
                if (!_awaiting.TryGetValue(packetId, out original))
                {
                    var receipt = new Qos2Receipt(this, packetId, userProperties, resendOf: null);
                    _awaiting[packetId] = receipt;
                    _arrivals.Enqueue(packetId);
                    TrimLocked();
                    return receipt;
                }
            }

            // Within one connection the original is already done (MQTTnet handles a client's packets in order); after a
            // takeover it may still be in flight on the old connection.
            if (await original.Outcome.WaitAsync(cancellationToken).ConfigureAwait(false) is { } outcome)
            {
                return new Qos2Receipt(this, packetId, userProperties, resendOf: outcome);
            }

            // The original did not complete (Abandon removed it): handle this one as new.
        }
    }

    /// <summary>The client's PUBREL: <paramref name="packetId"/> is free for a new message.</summary>
    public void Release(ushort packetId)
    {
        lock (_lock)
        {
            _awaiting.Remove(packetId);
        }
    }

    /// <summary>Forgets an original that did not complete, so that its resend is handled as new.</summary>
    internal void Abandon(Qos2Receipt receipt)
    {
        lock (_lock)
        {
            if (_awaiting.TryGetValue(receipt.PacketId, out var current) && ReferenceEquals(current, receipt))
            {
                _awaiting.Remove(receipt.PacketId);
            }
        }
    }

    private void TrimLocked()
    {
        // The queue may hold ids already released (or re-used): it is only the order to forget them in.
        while (_awaiting.Count > MaxAwaitingRelease && _arrivals.TryDequeue(out var oldest))
        {
            _awaiting.Remove(oldest);
        }

        while (_arrivals.Count > 4 * MaxAwaitingRelease && _arrivals.TryDequeue(out _))
        {
        }
    }
}

/// <summary>One QoS 2 PUBLISH on its way through MQTTnet. It rides on the message as its user-property list, the one
/// reference MQTTnet carries unchanged from the inbound packet to <c>InterceptingPublishAsync</c> (a client cannot
/// forge a .NET type); it keeps the client's own user properties.</summary>
internal sealed class Qos2Receipt : List<MqttUserProperty>
{
    private readonly Qos2Receipts _owner;
    private readonly TaskCompletionSource<MqttPubAckReasonCode?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a receipt holding <paramref name="userProperties"/>.</summary>
    public Qos2Receipt(Qos2Receipts owner, ushort packetId, List<MqttUserProperty>? userProperties, MqttPubAckReasonCode? resendOf)
        : base(userProperties ?? [])
    {
        _owner = owner;
        PacketId = packetId;
        ResendOf = resendOf;
    }

    /// <summary>The packet id.</summary>
    public ushort PacketId { get; }

    /// <summary>For a resend, the original's PUBREC code; null for an original.</summary>
    public MqttPubAckReasonCode? ResendOf { get; }

    /// <summary>The original's PUBREC code once it is decided; null when it did not complete.</summary>
    public Task<MqttPubAckReasonCode?> Outcome => _outcome.Task;

    /// <summary>The original was decided: resends get <paramref name="reasonCode"/>.</summary>
    public void Complete(MqttPubAckReasonCode reasonCode) => _outcome.TrySetResult(reasonCode);

    /// <summary>The original did not complete: a resend is handled as new.</summary>
    public void Abandon()
    {
        _owner.Abandon(this);
        _outcome.TrySetResult(null);
    }
}
