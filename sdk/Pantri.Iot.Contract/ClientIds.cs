namespace Pantri.Iot.Contract;

/// <summary>The MQTT client-id namespaces. They never overlap, so a session (which MQTTnet finds by client id) can only
/// ever be claimed by the kind of identity that created it: a device connects with its <c>DeviceId</c>, an ops
/// dashboard with an id starting <see cref="OpsPrefix"/>, the provisioning identity with one starting
/// <see cref="ProvisioningPrefix"/>. No <c>DeviceId</c> may start with either prefix (<see cref="DeviceIds.IsReserved"/>).</summary>
public static class ClientIds
{
    /// <summary>Prefix of every ops client id, e.g. <c>ops-dashboard-1</c>.</summary>
    public const string OpsPrefix = "ops-";

    /// <summary>Prefix of every client id of the provisioning identity (pairing-code provisioning).</summary>
    public const string ProvisioningPrefix = "prov-";

    /// <summary>Longest ops or provisioning client id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>True when <paramref name="clientId"/> is a well-formed ops client id: <see cref="OpsPrefix"/> followed by
    /// at least one character, at most <see cref="MaxLength"/> characters, none of them <c>+</c>, <c>#</c>, <c>/</c>,
    /// whitespace or control characters.</summary>
    public static bool IsOps(string? clientId) => HasPrefix(clientId, OpsPrefix);

    /// <summary>True when <paramref name="clientId"/> is a well-formed provisioning client id (as <see cref="IsOps"/>,
    /// with <see cref="ProvisioningPrefix"/>).</summary>
    public static bool IsProvisioning(string? clientId) => HasPrefix(clientId, ProvisioningPrefix);

    private static bool HasPrefix(string? clientId, string prefix)
    {
        if (clientId is null || clientId.Length <= prefix.Length || clientId.Length > MaxLength || !clientId.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in clientId)
        {
            if (c is '+' or '#' or '/' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
