using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Pantri.Iot.Contract;

/// <summary>Device identifiers as the contract defines them: <c>^[a-z0-9][a-z0-9-]{2,63}$</c>, matched against the
/// whole string, and not starting with a reserved prefix (<c>ops-</c>, <c>prov-</c>: see <see cref="ClientIds"/>).</summary>
public static partial class DeviceIds
{
    /// <summary>True when <paramref name="deviceId"/> is a well-formed DeviceId. Such an id can never contain
    /// <c>+</c>, <c>#</c>, <c>/</c> or whitespace, so it is safe to build topic filters from it.</summary>
    public static bool IsValid([NotNullWhen(true)] string? deviceId) => deviceId is not null && Pattern().IsMatch(deviceId) && !IsReserved(deviceId);

    /// <summary>True when <paramref name="deviceId"/> starts with a prefix reserved for another client-id namespace
    /// (<see cref="ClientIds.OpsPrefix"/>, <see cref="ClientIds.ProvisioningPrefix"/>). Such an id is never a valid
    /// DeviceId: a device can then never share a client id, and so a session, with an ops or provisioning client.</summary>
    public static bool IsReserved([NotNullWhen(true)] string? deviceId) =>
        deviceId is not null
        && (deviceId.StartsWith(ClientIds.OpsPrefix, StringComparison.Ordinal) || deviceId.StartsWith(ClientIds.ProvisioningPrefix, StringComparison.Ordinal));

    // \z, not $: in .NET, $ also matches before a final "\n", which would let "demo-button\n" through as an id.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{2,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
