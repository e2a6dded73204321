using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Broker.Transport;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker;

/// <summary>Starts the embedded broker and enforces the contract at its edge: who may connect, which topics each
/// client may touch, presence on the ops topics. Authorised device requests are handed to the
/// <see cref="IDeviceMessageHandler"/>; this class holds no business logic.</summary>
/// <remarks>The one subscriber to MQTTnet's server events: each event has exactly one handler here, so their order is
/// visible in one place. Subscription bookkeeping is delegated to <see cref="EmbeddedMqttServer"/>, which delivers by
/// it.</remarks>
public sealed class BrokerHostedService(
    EmbeddedMqttServer broker,
    IDeviceAuthenticator authenticator,
    IOpsAuthenticator opsAuthenticator,
    IDeviceMessageHandler handler,
    IProvisioningHandler provisioning,
    IOptions<BrokerOptions> options,
    TimeProvider time,
    ILogger<BrokerHostedService> logger,
    IEnumerable<IPresenceObserver> presenceObservers) : IHostedService
{
    private const string ProvisioningAddressKey = "pantri.provisioning.address";
    private const string ProvisioningAttemptsKey = "pantri.provisioning.attempts";
    private readonly BrokerOptions _options = options.Value;
    private readonly SessionOwners _sessionOwners = new();
    private readonly ClientCredentials _credentials = new(authenticator, opsAuthenticator, options);
    private readonly LoginThrottle _throttle = new(
        time, options.Value.MaxLoginFailuresPerClientId, options.Value.MaxLoginFailuresPerAddress, options.Value.LoginBackoff, options.Value.ParsedProxyAddresses());
    private long _droppedMessages;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var server = broker.Server;
        server.ValidatingConnectionAsync += ValidateConnectionAsync;
        server.InterceptingInboundPacketAsync += InterceptInboundPacketAsync;
        server.InterceptingPublishAsync += InterceptPublishAsync;
        server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
        server.ClientSubscribedTopicAsync += OnSubscribedAsync;
        server.ClientUnsubscribedTopicAsync += OnUnsubscribedAsync;
        server.ClientConnectedAsync += OnConnectedAsync;
        server.ClientDisconnectedAsync += OnDisconnectedAsync;
        server.SessionDeletedAsync += e =>
        {
            _sessionOwners.Deleted(e.Id, e.SessionItems[ClientIdentity.SessionKey] as ClientIdentity);
            return Task.CompletedTask;
        };
        server.QueuedApplicationMessageOverwrittenAsync += _ =>
        {
            // One line per drop would flood the log exactly when a client falls behind; the count is cumulative, so
            // the rate-limited lines lose nothing.
            var dropped = Interlocked.Increment(ref _droppedMessages);
            if (broker.Refusals.ShouldLog(RefusalReasons.QueueOverflow))
            {
                Log.QueueOverflow(logger, dropped);
            }
            return Task.CompletedTask;
        };
        await server.StartAsync().ConfigureAwait(false);
        Log.Started(logger, _options.BindAddress, broker.Port, _options.MaxPacketSize, broker.MaxConnections, _options.MaxConnectionsPerAddress, _options.ConnectTimeout);
        if (!_options.PlainTcp)
        {
            Log.PlainTcpOff(logger);
        }

        if (broker.Adapter.TlsCertificate is { } certificate)
        {
            Log.TlsStarted(logger, broker.TlsAddress?.ToString() ?? string.Empty, broker.TlsPort, certificate.Subject, string.Join(':', Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)).Chunk(2).Select(pair => new string(pair))));
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => broker.Server.StopAsync(new MqttServerStopOptions());

    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs e)
    {
        var clientId = e.ClientId ?? string.Empty;
        var userName = e.UserName ?? string.Empty;
        var address = SourceAddress(e.RemoteEndPoint);
        if (_throttle.IsThrottled(clientId, address))
        {
            // Refused without looking at the key. 3.1.1 has no "rate exceeded": MQTTnet would send 0x01 for it.
            return Refuse(e, e.ProtocolVersion == MqttProtocolVersion.V500 ? MqttConnectReasonCode.ConnectionRateExceeded : MqttConnectReasonCode.ServerUnavailable);
        }

        var identity = _credentials.Authenticate(clientId, userName, e.RawPassword);
        if (identity is null && ClientIds.IsProvisioning(clientId) && userName == Provisioning.UserName && IsProvisioningPassword(e.RawPassword))
        {
            // A session of its own for each connection: nothing of a provisioning client outlives its connection.
            if (e.CleanSession != true)
            {
                return Refuse(e, MqttConnectReasonCode.NotAuthorized, "provisioning needs a clean session");
            }

            // No takeover: a second connection under a provisioning client id in use could otherwise knock the first
            // off and receive the credentials meant for it.
            if (_sessionOwners.IsInUse(clientId))
            {
                return Refuse(e, MqttConnectReasonCode.NotAuthorized, "Client id in use");
            }

            identity = new ClientIdentity(clientId, IsOps: false, IsProvisioning: true);
            e.SessionItems[ProvisioningAddressKey] = address;
        }

        if (identity is null)
        {
            // Unknown id, wrong key, or ClientId ≠ Username: the same answer, so ids cannot be probed.
            _throttle.Failed(clientId, address);
            return Refuse(e, DeviceIds.IsValid(clientId) && clientId == userName ? MqttConnectReasonCode.BadUserNameOrPassword : MqttConnectReasonCode.NotAuthorized);
        }

        _throttle.Succeeded(clientId, address);
        var connection = broker.Adapter.GetConnection(e.RemoteEndPoint);
        var connect = connection?.Connect;
        if (connection is null || connect is null || (connect.HasWill && !IsAllowedWill(identity, connect)))
        {
            return Refuse(e, MqttConnectReasonCode.NotAuthorized, "Will topic not allowed");
        }

        // A session belongs to the identity that created it, whatever the clean-session flag: a clean start would
        // still take the owner's connection over. Refused rather than forced clean (MQTTnet offers no way to force
        // it from here, and a forced clean start would still disconnect the owner).
        if (_sessionOwners.IsOwnedByAnother(clientId, identity))
        {
            return Refuse(e, MqttConnectReasonCode.NotAuthorized, "Client id in use by another identity");
        }

        connection.Identity = identity;
        e.SessionItems[ClientIdentity.SessionKey] = identity;
        _ = V5PropertiesBuffer.Trim(e.ChannelAdapter.PacketFormatterAdapter);
        return Task.CompletedTask;
    }

    private Task Refuse(ValidatingConnectionEventArgs e, MqttConnectReasonCode reasonCode, string? reasonString = null)
    {
        e.ReasonCode = reasonCode;
        e.ReasonString = reasonString;
        if (broker.Refusals.ShouldLog(ConnectRefusalReason(reasonCode)))
        {
            Log.RefusedConnect(logger, Shorten(e.ClientId ?? string.Empty), e.RemoteEndPoint?.ToString(), reasonCode, reasonString is null ? string.Empty : $" ({reasonString})");
        }

        return Task.CompletedTask;
    }

    /// <summary>The <see cref="RefusalLog"/> reason of a refused CONNECT (one per reason code, a fixed set).</summary>
    private static string ConnectRefusalReason(MqttConnectReasonCode reasonCode) => reasonCode switch
    {
        MqttConnectReasonCode.BadUserNameOrPassword => RefusalReasons.ConnectPrefix + "bad-credentials",
        MqttConnectReasonCode.ConnectionRateExceeded or MqttConnectReasonCode.ServerUnavailable => RefusalReasons.ConnectPrefix + "throttled",
        _ => RefusalReasons.ConnectPrefix + "not-authorized",
    };

    private static IPAddress? SourceAddress(EndPoint? remote) => (remote is Transport.WebSocketEndPoint ws ? ws.Peer : remote as IPEndPoint)?.Address is { } address
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address)
        : null;

    private static bool IsAllowedWill(ClientIdentity identity, Transport.ConnectPacketInfo connect) =>
        !connect.WillRetain && TopicAuthorizer.CanPublish(identity, connect.WillTopic ?? string.Empty, out _);

    private async Task InterceptPublishAsync(InterceptingPublishEventArgs e)
    {
        if (e.ClientId == EmbeddedMqttServer.GatewaySenderId)
        {
            return;
        }

        var message = e.ApplicationMessage;
        var receipt = message.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce ? message.UserProperties as Qos2Receipt : null;
        if (receipt?.ResendOf is { } original)
        {
            // A QoS 2 resend of a message already handled: answer as then, apply nothing.
            e.ProcessPublish = false;
            e.Response.ReasonCode = original;
            return;
        }

        if (receipt is null)
        {
            await AuthorizeAndHandleAsync(e).ConfigureAwait(false);
            return;
        }

        try
        {
            await AuthorizeAndHandleAsync(e).ConfigureAwait(false);
        }
        finally
        {
            if (e.Response.ReasonCode == MqttPubAckReasonCode.UnspecifiedError || e.CancellationToken.IsCancellationRequested)
            {
                receipt.Abandon();
            }
            else
            {
                receipt.Complete(e.Response.ReasonCode);
            }
        }
    }

    private async Task AuthorizeAndHandleAsync(InterceptingPublishEventArgs e)
    {
        var message = e.ApplicationMessage;
        var topic = message.Topic ?? string.Empty;
        DeviceTopicKind kind = default;
        if (topic.Length > _options.MaxTopicLength)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.TopicNameInvalid;
        }
        else if (e.SessionItems?[ClientIdentity.SessionKey] is ClientIdentity { IsProvisioning: true } prov && TopicAuthorizer.IsOwnProvisioningRequest(prov, topic))
        {
            await HandleProvisioningAsync(e, prov).ConfigureAwait(false);
            return;
        }
        else if (e.SessionItems?[ClientIdentity.SessionKey] is not ClientIdentity identity || !TopicAuthorizer.CanPublish(identity, topic, out kind))
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
        }
        else
        {
            await HandleRequestAsync(e, identity, kind).ConfigureAwait(false);
            return;
        }

        e.ProcessPublish = false;
        if (broker.Refusals.ShouldLog(RefusalReasons.Publish))
        {
            Log.RefusedPublish(logger, e.ClientId, Shorten(topic), e.Response.ReasonCode);
        }
    }

    /// <summary>Hands an authorised request to the gateway and holds its PUBACK until the gateway is done.</summary>
    private async Task HandleRequestAsync(InterceptingPublishEventArgs e, ClientIdentity identity, DeviceTopicKind kind)
    {
        var message = e.ApplicationMessage;

        // Requests are consumed by the gateway, never routed or retained.
        e.ProcessPublish = false;
        string? refusal = null;
        if (message.Retain)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            refusal = "retained publishes are not accepted on device topics";
        }

        // The payload buffer belongs to MQTTnet and is reused once this handler returns.
        var payload = message.Payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : System.Buffers.BuffersExtensions.ToArray(message.Payload);
        var request = new DeviceMessage(identity.Name, kind, payload, message.ResponseTopic, message.CorrelationData ?? ReadOnlyMemory<byte>.Empty, refusal);
        try
        {
            await handler.HandleAsync(request, e.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The handler acks its own failures; reaching here means even that failed. Do not PUBACK success.
            e.Response.ReasonCode = MqttPubAckReasonCode.UnspecifiedError;
            Log.HandlerFailed(logger, ex, e.ClientId);
        }
    }

    /// <summary>Hands a pairing-code request to the gateway and publishes its answer on the client's response topic; past
    /// <see cref="BrokerOptions.ProvisioningAttemptsPerConnection"/> attempts the answer is 429 and the connection is closed.</summary>
    private async Task HandleProvisioningAsync(InterceptingPublishEventArgs e, ClientIdentity identity)
    {
        e.ProcessPublish = false;
        var attempts = e.SessionItems[ProvisioningAttemptsKey] is int count ? count + 1 : 1;
        e.SessionItems[ProvisioningAttemptsKey] = attempts;
        var response = Provisioning.ResponseTopic(identity.Name);
        if (e.ApplicationMessage.Retain)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            return;
        }

        if (attempts > _options.ProvisioningAttemptsPerConnection)
        {
            await broker.PublishAsync(new OutboundMessage(response, provisioning.TooManyAttempts()), CancellationToken.None).ConfigureAwait(false);
            _ = broker.DisconnectIdentityAsync(identity, TimeSpan.FromMilliseconds(200));
            return;
        }

        var payload = e.ApplicationMessage.Payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload);
        try
        {
            var answer = await provisioning.HandleAsync(new ProvisioningMessage(identity.Name, e.SessionItems[ProvisioningAddressKey] as IPAddress, payload), e.CancellationToken).ConfigureAwait(false);
            await broker.PublishAsync(new OutboundMessage(response, answer), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.UnspecifiedError;
            Log.HandlerFailed(logger, ex, e.ClientId);
        }
    }

    /// <summary>Sees every packet a client sends before MQTTnet handles it; only QoS 2 PUBLISH and PUBREL matter here,
    /// for <see cref="Qos2Receipts"/>.</summary>
    private static async Task InterceptInboundPacketAsync(InterceptingPacketEventArgs e)
    {
        switch (e.Packet)
        {
            case MqttPublishPacket { QualityOfServiceLevel: MqttQualityOfServiceLevel.ExactlyOnce } publish when e.SessionItems is not null:
                publish.UserProperties = await Qos2Receipts.Of(e.SessionItems).ArriveAsync(publish.PacketIdentifier, publish.UserProperties, e.CancellationToken).ConfigureAwait(false);
                break;
            case MqttPubRelPacket release when e.SessionItems is not null:
                Qos2Receipts.Of(e.SessionItems).Release(release.PacketIdentifier);
                break;
        }
    }

    private Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs e)
    {
        var filter = e.TopicFilter.Topic ?? string.Empty;
        string? reason = null;
        if (filter.Length > _options.MaxTopicLength)
        {
            e.Response.ReasonCode = MqttSubscribeReasonCode.TopicFilterInvalid;
            reason = RefusalReasons.Subscribe;
        }
        else if (e.SessionItems[ClientIdentity.SessionKey] is not ClientIdentity identity || !TopicAuthorizer.CanSubscribe(identity, filter))
        {
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            reason = RefusalReasons.Subscribe;
        }
        else if (!SessionSubscriptions.Of(e.SessionItems, e.ClientId).TryAdmit(filter, _options.MaxSubscriptionsPerClient))
        {
            // 3.1.1 has no quota code: MQTTnet writes any refusal there as 0x80.
            e.Response.ReasonCode = MqttSubscribeReasonCode.QuotaExceeded;
            reason = RefusalReasons.SubscriptionQuota;
        }

        if (reason is not null)
        {
            e.ProcessSubscription = false;
            if (broker.Refusals.ShouldLog(reason))
            {
                Log.RefusedSubscribe(logger, e.ClientId, Shorten(filter), e.Response.ReasonCode);
            }
        }
        else if (e.SessionItems[ClientIdentity.SessionKey] is ClientIdentity { IsOps: false })
        {
            // Nothing is ever retained in a device's namespace (retained requests are refused, acks are never
            // retained), yet MQTTnet copies and matches the whole retained store — every device's presence and
            // inventory — on each SUBSCRIBE unless told not to send retained messages: a reconnect storm paid that
            // per device.
            e.TopicFilter.RetainHandling = MqttRetainHandling.DoNotSendOnSubscribe;
        }

        return Task.CompletedTask;
    }

    /// <summary>A topic as it goes into a log line: at most 256 characters.</summary>
    private static string Shorten(string topic) => topic.Length <= 256 ? topic : string.Concat(topic.AsSpan(0, 256), "…");

    private Task OnSubscribedAsync(ClientSubscribedTopicEventArgs e) => broker.RecordSubscriptionAsync(e);

    private static Task OnUnsubscribedAsync(ClientUnsubscribedTopicEventArgs e)
    {
        EmbeddedMqttServer.ForgetSubscription(e);
        return Task.CompletedTask;
    }

    /// <summary>The one connect handler. MQTTnet validates a CONNECT before it takes its connection lock, so two
    /// identities racing for one client id could both pass <see cref="SessionOwners"/>; the session this client got is
    /// known only here. A client that landed in a session of another identity is cut off before MQTTnet reads its
    /// first packet (MQTTnet awaits this handler before it starts the connection's loops).</summary>
    private Task OnConnectedAsync(ClientConnectedEventArgs e)
    {
        var owner = e.SessionItems[ClientIdentity.SessionKey] as ClientIdentity;
        var connection = broker.Adapter.GetConnection(e.RemoteEndPoint);
        if (connection is null)
        {
            return Task.CompletedTask; // already closed
        }

        if (owner is null || connection.Identity != owner)
        {
            Log.SessionOfAnotherIdentity(logger, e.ClientId, e.RemoteEndPoint?.ToString());
            connection.Abort();
            return Task.CompletedTask;
        }

        _sessionOwners.Connected(e.ClientId, owner);
        if (owner.IsProvisioning)
        {
            // Bounded connection time: whatever it is doing, a provisioning client goes after this.
            _ = broker.DisconnectIdentityAsync(owner, _options.ProvisioningConnectionTime);
            return Task.CompletedTask;
        }

        return PublishPresenceAsync(e.SessionItems, PresenceStatus.Online, null);
    }

    /// <summary>The one disconnect handler: forget the ops session first (as when it had its own handler, which ran
    /// before this one), then publish the device's offline presence.</summary>
    private Task OnDisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        broker.ForgetOpsSession(e);
        return PublishPresenceAsync(e.SessionItems, PresenceStatus.Offline, DisconnectReason(e.DisconnectType));
    }

    private Task PublishPresenceAsync(System.Collections.IDictionary items, string status, string? reason)
    {
        if (items[ClientIdentity.SessionKey] is not ClientIdentity { IsOps: false, IsProvisioning: false } identity)
        {
            return Task.CompletedTask;
        }

        var presence = new DevicePresence { DeviceId = identity.Name, Status = status, LastSeen = time.GetUtcNow(), Reason = reason };
        foreach (var observer in presenceObservers)
        {
            observer.PresenceChanged(identity.Name, status, reason, presence.LastSeen.Value);
        }

        return broker.PublishAsync(new OutboundMessage(Topics.OpsDevice(identity.Name), ContractJson.Serialize(presence), Retain: true), CancellationToken.None);
    }

    /// <summary>The presence <c>Reason</c>: <c>clean</c> (the device sent DISCONNECT), <c>dropped</c> (the connection
    /// was lost or closed without one), <c>takeover</c> (the same id connected again).</summary>
    internal static string DisconnectReason(MqttClientDisconnectType type) => type switch
    {
        MqttClientDisconnectType.Clean => DisconnectReasons.Clean,
        MqttClientDisconnectType.Takeover => DisconnectReasons.Takeover,
        _ => DisconnectReasons.Dropped,
    };

    private bool IsProvisioningPassword(byte[]? password) =>
        string.IsNullOrEmpty(_options.ProvisioningPassword)
        || CryptographicOperations.FixedTimeEquals(password ?? [], Encoding.UTF8.GetBytes(_options.ProvisioningPassword));
}
