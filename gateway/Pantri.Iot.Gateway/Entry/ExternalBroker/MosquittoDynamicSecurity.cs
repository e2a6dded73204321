using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>Device credentials and topic rules in Mosquitto's dynamic security plugin, through
/// <c>$CONTROL/dynamic-security/v1</c>. Each device is a client whose username and client id are its DeviceId and
/// whose password is its key, with a role of its own naming its topics literally (Mosquitto 2.0's plugin does not
/// substitute %c/%u in ACLs). At start it adds the roles the gateway and ops users need. The gateway's user must
/// hold the plugin's admin role (<c>mosquitto_ctrl dynsec init … pantri-gateway</c>).</summary>
public sealed partial class MosquittoDynamicSecurity(
    ExternalBrokerConnection connection,
    IOptions<ExternalBrokerOptions> options,
    ILogger<MosquittoDynamicSecurity> logger) : IDeviceCredentialSync, IHostedService, IDisposable
{
    /// <summary>The plugin's request topic.</summary>
    public const string ControlTopic = "$CONTROL/dynamic-security/v1";

    /// <summary>The role every gateway instance's user gets.</summary>
    public const string GatewayRole = "pantri-gateway";

    /// <summary>The role for ops users: subscribe to <c>pantri/v1/ops/#</c>, nothing else.</summary>
    public const string OpsRole = "pantri-ops";

    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private bool _started;

    /// <summary>The role of one device.</summary>
    public static string DeviceRole(string deviceId) => "pantri-device-" + deviceId;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => EnsureStartedAsync(cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public void Dispose() => _startLock.Dispose();

    /// <inheritdoc/>
    public async Task DeviceCreatedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken)
    {
        RequireDeviceId(deviceId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var role = DeviceRole(deviceId);
        JsonArray acls =
        [
            .. new[] { DeviceTopicKind.Trigger, DeviceTopicKind.Level, DeviceTopicKind.Usage }
                .Select(kind => Acl("publishClientSend", Topics.Device(deviceId, kind))),
            // The contract's status topic (presence, the only topic a Will may use).
            Acl("publishClientSend", Topics.DeviceNamespace(deviceId) + "status"),
            Acl("subscribePattern", Topics.DeviceNamespace(deviceId) + "#"),
        ];
        await SendAsync(Command("createRole", ("rolename", role), ("acls", acls)), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
        var created = await SendAsync(
            Command("createClient", ("username", deviceId), ("clientid", deviceId), ("password", deviceKey), ("roles", new JsonArray(new JsonObject { ["rolename"] = role }))),
            tolerateExisting: true,
            cancellationToken).ConfigureAwait(false);
        if (!created)
        {
            // Left from an attempt that failed after the broker had it: the key of this attempt is the one shown.
            await SendAsync(Command("setClientPassword", ("username", deviceId), ("password", deviceKey)), tolerateExisting: false, cancellationToken).ConfigureAwait(false);
        }

        LogDeviceSynced(logger, deviceId, "created");
    }

    /// <inheritdoc/>
    public async Task KeyChangedAsync(string deviceId, string deviceKey, CancellationToken cancellationToken)
    {
        RequireDeviceId(deviceId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(Command("setClientPassword", ("username", deviceId), ("password", deviceKey)), tolerateExisting: false, cancellationToken).ConfigureAwait(false);
        LogDeviceSynced(logger, deviceId, "re-keyed");
    }

    /// <inheritdoc/>
    public async Task DeviceRemovedAsync(string deviceId, CancellationToken cancellationToken)
    {
        RequireDeviceId(deviceId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        // Deleting the client also disconnects it (the plugin kicks clients whose user changes).
        await SendAsync(Command("deleteClient", ("username", deviceId)), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
        await SendAsync(Command("deleteRole", ("rolename", DeviceRole(deviceId))), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
        LogDeviceSynced(logger, deviceId, "removed");
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _started))
        {
            return;
        }

        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                return;
            }

            var responses = new MqttTopicFilterBuilder().WithTopic(ControlTopic + "/response").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            await connection.SubscribeAsync(responses, OnResponseAsync, cancellationToken).ConfigureAwait(false);
            await EnsureRolesAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _started, true);
        }
        finally
        {
            _startLock.Release();
        }
    }

    // Idempotent: every instance runs it at start; "already exists" answers are expected after the first.
    private async Task EnsureRolesAsync(CancellationToken cancellationToken)
    {
        var group = options.Value.ShareGroup;
        var gatewayAcls = new List<JsonObject>();
        foreach (var kind in new[] { DeviceTopicKind.Trigger, DeviceTopicKind.Level, DeviceTopicKind.Usage })
        {
            gatewayAcls.Add(Acl("subscribePattern", $"$share/{group}/{Topics.DevicesPrefix}+/{Topics.Name(kind)}"));
        }

        // Acks, order updates and MQTT 5 response topics in any device's namespace (and the clearing of a retained
        // request); ops messages.
        gatewayAcls.Add(Acl("publishClientSend", Topics.DevicesPrefix + "#"));
        gatewayAcls.Add(Acl("publishClientSend", Topics.OpsPrefix + "#"));
        await SendAsync(Command("createRole", ("rolename", GatewayRole)), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
        foreach (var acl in gatewayAcls)
        {
            await SendAsync(Command("addRoleACL", ("rolename", GatewayRole), ("acltype", acl["acltype"]!.DeepClone()), ("topic", acl["topic"]!.DeepClone()), ("allow", true)), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
        }

        await GrantOwnRoleAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(Command("createRole", ("rolename", OpsRole), ("acls", new JsonArray(Acl("subscribePattern", Topics.OpsPrefix + "#")))), tolerateExisting: true, cancellationToken).ConfigureAwait(false);
    }

    // The plugin disconnects every client of a user whose roles change, this gateway included: grant the role only
    // when it is missing, then expect the kick and reconnect (the subscriptions are restored on reconnect).
    private async Task GrantOwnRoleAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var client = await RequestAsync(Command("getClient", ("username", options.Value.Username)), cancellationToken).ConfigureAwait(false);
            var roles = client?["data"]?["client"]?["roles"]?.AsArray().Select(r => r?["rolename"]?.GetValue<string>()) ?? [];
            if (roles.Contains(GatewayRole, StringComparer.Ordinal))
            {
                return;
            }

            var kicked = connection.Disconnected;
            try
            {
                await PublishCommandAsync(Command("addClientRole", ("username", options.Value.Username), ("rolename", GatewayRole)), cancellationToken).ConfigureAwait(false);
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The kick may come before the PUBACK.
            }

            await Task.WhenAny(kicked, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken)).ConfigureAwait(false);
            await connection.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"could not give the broker user '{options.Value.Username}' the role {GatewayRole}");
    }

    /// <summary>Sends one command and waits for its answer; true when it succeeded, false when it failed only because
    /// the thing already existed (or, for deletions, was already gone) and <paramref name="tolerateExisting"/>.</summary>
    private async Task<bool> SendAsync(JsonObject command, bool tolerateExisting, CancellationToken cancellationToken)
    {
        var response = await RequestAsync(command, cancellationToken).ConfigureAwait(false);
        var error = response?["error"]?.GetValue<string>();
        if (error is null)
        {
            return true;
        }

        if (tolerateExisting && (error.Contains("already", StringComparison.OrdinalIgnoreCase) || error.Contains("not found", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        throw new InvalidOperationException($"Mosquitto's dynamic security refused {command["command"]}: {error}");
    }

    /// <summary>Sends one command and returns the plugin's response to it (<c>error</c> set when it failed).</summary>
    private async Task<JsonNode?> RequestAsync(JsonObject command, CancellationToken cancellationToken)
    {
        var correlation = Guid.NewGuid().ToString("N");
        command["correlationData"] = correlation;
        var answer = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[correlation] = answer;
        try
        {
            await PublishCommandAsync(command, cancellationToken).ConfigureAwait(false);
            return await answer.Task.WaitAsync(options.Value.ControlTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(correlation, out _);
        }
    }

    private Task PublishCommandAsync(JsonObject command, CancellationToken cancellationToken) =>
        connection.PublishAsync(new Broker.Abstractions.OutboundMessage(ControlTopic, JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["commands"] = new JsonArray(command) })), cancellationToken);

    private Task OnResponseAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            var root = JsonNode.Parse(e.ApplicationMessage.Payload.ToArray());
            foreach (var response in root?["responses"]?.AsArray() ?? [])
            {
                var correlation = response?["correlationData"]?.GetValue<string>();
                if (correlation is not null && _pending.TryGetValue(correlation, out var answer))
                {
                    answer.TrySetResult(response?.DeepClone());
                }
            }
        }
        catch (JsonException ex)
        {
            LogBadResponse(logger, ex);
        }

        return Task.CompletedTask;
    }

    private static void RequireDeviceId(string deviceId)
    {
        // The id becomes a username, a client id and ACL topics: only a valid DeviceId may (no + # / or whitespace).
        if (!DeviceIds.IsValid(deviceId))
        {
            throw new ArgumentException($"'{deviceId}' is not a valid DeviceId", nameof(deviceId));
        }
    }

    private static JsonObject Acl(string type, string topic) => new() { ["acltype"] = type, ["topic"] = topic, ["priority"] = 0, ["allow"] = true };

    private static JsonObject Command(string name, params (string Key, JsonNode? Value)[] fields)
    {
        var command = new JsonObject { ["command"] = name };
        foreach (var (key, value) in fields)
        {
            command[key] = value;
        }

        return command;
    }

    [LoggerMessage(EventId = 5420, Level = LogLevel.Information, Message = "Device {DeviceId} {Change} in Mosquitto's dynamic security")]
    private static partial void LogDeviceSynced(ILogger logger, string deviceId, string change);

    [LoggerMessage(EventId = 5421, Level = LogLevel.Warning, Message = "Unreadable answer from Mosquitto's dynamic security")]
    private static partial void LogBadResponse(ILogger logger, Exception exception);
}
