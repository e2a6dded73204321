using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker;

/// <summary>The contract's topic rules: a device publishes only to its own trigger/level/usage topics and
/// subscribes only inside <c>pantri/v1/devices/{its id}/</c>; ops subscribes only below <c>pantri/v1/ops/</c> and
/// publishes nothing. Everything else, including <c>$share</c>, <c>$SYS</c> and cross-device wildcards, is refused.</summary>
public static class TopicAuthorizer
{
    /// <summary>True when <paramref name="identity"/> may publish to <paramref name="topic"/>.</summary>
    public static bool CanPublish(ClientIdentity identity, string topic, out DeviceTopicKind kind)
    {
        ArgumentNullException.ThrowIfNull(identity);
        kind = default;
        return !identity.IsOps && !identity.IsProvisioning
            && Topics.TryParseDeviceTopic(topic, out var deviceId, out kind)
            && string.Equals(deviceId, identity.Name, StringComparison.Ordinal)
            && Topics.IsRequest(kind);
    }

    /// <summary>True when <paramref name="identity"/> may subscribe to <paramref name="filter"/>.</summary>
    public static bool CanSubscribe(ClientIdentity identity, string filter)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (string.IsNullOrEmpty(filter))
        {
            return false;
        }

        if (identity.IsProvisioning)
        {
            // Its own response topic, exactly: no wildcard, nothing else.
            return string.Equals(filter, Provisioning.ResponseTopic(identity.Name), StringComparison.Ordinal);
        }

        var root = identity.IsOps ? Topics.OpsPrefix : Topics.DeviceNamespace(identity.Name);
        if (!filter.StartsWith(root, StringComparison.Ordinal) || filter.Length == root.Length)
        {
            return false;
        }

        // Wildcards below the root stay inside it; a '#' or '+' can only widen within the namespace.
        return IsWellFormedFilter(filter.AsSpan(root.Length));
    }

    /// <summary>True when <paramref name="identity"/> is a provisioning client and <paramref name="topic"/> its own request topic.</summary>
    public static bool IsOwnProvisioningRequest(ClientIdentity identity, string topic)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return identity.IsProvisioning && string.Equals(topic, Provisioning.RequestTopic(identity.Name), StringComparison.Ordinal);
    }

    private static bool IsWellFormedFilter(ReadOnlySpan<char> rest)
    {
        var levels = rest.ToString().Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
            {
                return false;
            }

            if (level.Contains('+', StringComparison.Ordinal) && level != "+")
            {
                return false;
            }
        }

        return true;
    }
}
