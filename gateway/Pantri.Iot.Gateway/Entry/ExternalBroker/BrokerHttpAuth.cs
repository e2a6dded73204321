using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pantri.Iot.Broker;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>The decisions behind the HTTP endpoints an external broker (EMQX) calls: who a login is and what it may
/// touch, by the embedded broker's own rules (<see cref="ClientCredentials"/>, <see cref="TopicAuthorizer"/>), plus
/// the gateway's own user. Wrong credentials are throttled per client id at the device's address and per address
/// (<see cref="LoginThrottle"/>, the embedded broker's limits), so the endpoint is no faster a key-guessing oracle
/// than the embedded broker.</summary>
public sealed partial class BrokerHttpAuth
{
    private readonly ClientCredentials _credentials;
    private readonly DeviceDirectory _devices;
    private readonly ExternalBrokerOptions _broker;
    private readonly LoginThrottle _throttle;
    private readonly byte[] _secretHash;
    private readonly HashSet<string> _gatewayFilters;
    private readonly TimeProvider _time;
    private readonly ILogger<BrokerHttpAuth> _logger;
    private long _lastRefusalLog;

    /// <summary>Creates the decisions from the broker settings of both modes.</summary>
    public BrokerHttpAuth(ClientCredentials credentials, DeviceDirectory devices, IOptions<ExternalBrokerOptions> broker, IOptions<BrokerOptions> mqtt, TimeProvider time, ILogger<BrokerHttpAuth> logger)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(mqtt);
        ArgumentNullException.ThrowIfNull(time);
        _credentials = credentials;
        _time = time;
        _logger = logger;
        _devices = devices;
        _broker = broker.Value;
        var limits = mqtt.Value;
        // No proxy exemption: the address counted is the device's (the broker's peerhost), never the broker's own.
        _throttle = new LoginThrottle(time, limits.MaxLoginFailuresPerClientId, limits.MaxLoginFailuresPerAddress, limits.LoginBackoff, new HashSet<IPAddress>());
        _secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(_broker.HttpAuthSecret ?? string.Empty));
        _gatewayFilters = [];
        foreach (var kind in (DeviceTopicKind[])[DeviceTopicKind.Trigger, DeviceTopicKind.Level, DeviceTopicKind.Usage])
        {
            var filter = $"{Topics.DevicesPrefix}+/{Topics.Name(kind)}";
            _gatewayFilters.Add($"$share/{_broker.ShareGroup}/{filter}");
            // Brokers that hand the authoriser the filter without its $share/{group}/ prefix.
            _gatewayFilters.Add(filter);
        }
    }

    /// <summary>True when <paramref name="authorization"/> is <c>Bearer {HttpAuthSecret}</c> (compared in constant
    /// time: both sides are hashed first, so not even the length leaks).</summary>
    public bool IsBroker(string? authorization, IPAddress? caller)
    {
        const string Scheme = "Bearer ";
        var ok = !string.IsNullOrEmpty(_broker.HttpAuthSecret) && authorization is not null && authorization.StartsWith(Scheme, StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Scheme.Length..])), _secretHash);
        if (!ok)
        {
            // A broker configured with the wrong secret refuses every client: say so, at most once a minute (the
            // endpoint is reachable by anyone who can reach the gateway, and must not become a log flood).
            var now = _time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastRefusalLog);
            if (now - last >= TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastRefusalLog, now, last) == last)
            {
                LogRefusedCaller(_logger, caller?.ToString() ?? "unknown");
            }
        }

        return ok;
    }

    /// <summary>True when the login may connect. <paramref name="peer"/> is the client's address as the broker saw it.</summary>
    public bool Authenticate(string clientId, string userName, string? password, IPAddress peer)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(userName);
        if (_throttle.IsThrottled(clientId, peer))
        {
            // Refused without looking at the key, as the embedded broker does.
            return false;
        }

        var raw = password is null ? null : Encoding.UTF8.GetBytes(password);
        var ok = IsGateway(clientId, userName)
            ? !string.IsNullOrEmpty(_broker.Password) && CryptographicOperations.FixedTimeEquals(raw ?? [], Encoding.UTF8.GetBytes(_broker.Password))
            : _credentials.Authenticate(clientId, userName, raw) is not null;
        if (ok)
        {
            _throttle.Succeeded(clientId, peer);
        }
        else
        {
            _throttle.Failed(clientId, peer);
        }

        return ok;
    }

    /// <summary>True when the client (as the broker authenticated it) may publish to <paramref name="topic"/>
    /// (<paramref name="subscribe"/> false; <paramref name="retain"/> its retain flag) or subscribe to it.</summary>
    public bool Authorize(string clientId, string userName, bool subscribe, string topic, bool retain)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(topic);
        if (IsGateway(clientId, userName))
        {
            // What the gateway does: take requests through its shared subscriptions; publish acks, order updates,
            // response topics and the clearing of retained requests in devices' namespaces, and the ops messages.
            return subscribe
                ? _gatewayFilters.Contains(topic)
                : !HasWildcard(topic) && (topic.StartsWith(Topics.DevicesPrefix, StringComparison.Ordinal) || topic.StartsWith(Topics.OpsPrefix, StringComparison.Ordinal));
        }

        ClientIdentity identity;
        if (ClientIds.IsOps(clientId))
        {
            identity = new ClientIdentity(userName, IsOps: true);
        }
        else if (DeviceIds.IsValid(clientId) && clientId == userName && _devices.IsActive(clientId))
        {
            // A revoked device still connected to the broker touches nothing from here on (the broker's authorisation
            // cache aside).
            identity = new ClientIdentity(clientId, IsOps: false);
        }
        else
        {
            return false;
        }

        return subscribe
            ? TopicAuthorizer.CanSubscribe(identity, topic)
            : !retain && TopicAuthorizer.CanPublish(identity, topic, out _);
    }

    private bool IsGateway(string clientId, string userName) =>
        userName == _broker.Username && clientId.StartsWith(ExternalBrokerConnection.ClientIdPrefix, StringComparison.Ordinal);

    private static bool HasWildcard(string topic) => topic.Contains('#', StringComparison.Ordinal) || topic.Contains('+', StringComparison.Ordinal);

    [LoggerMessage(EventId = 5600, Level = LogLevel.Warning, Message = "Refused a call to the broker authentication endpoints from {Caller}: no valid Pantri:Broker:HttpAuthSecret (further refusals are not logged for a minute)")]
    private static partial void LogRefusedCaller(ILogger logger, string caller);
}
