using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Pantri.Iot.Contract;

/// <summary>Pairing-code provisioning (after AWS IoT fleet provisioning and ThingsBoard's device provisioning): a new
/// device connects as the provisioning identity — client id <c>prov-…</c> (e.g. <c>prov-</c> and its serial number),
/// username <see cref="UserName"/>, and the installation's provisioning password when one is configured — subscribes to
/// <see cref="ResponseTopic"/>, publishes <c>{"Code":"7KQ2-M9XD"}</c> to <see cref="RequestTopic"/>, and receives its
/// <c>DeviceId</c>, <c>Device_Key</c> and <c>Instruction_Refs</c>; then it reconnects as itself.</summary>
public static class Provisioning
{
    /// <summary>Prefix of the provisioning topics.</summary>
    public const string Prefix = "pantri/v1/provision/";

    /// <summary>The provisioning identity's MQTT username.</summary>
    public const string UserName = "provision";

    /// <summary><c>pantri/v1/provision/{clientId}/request</c>: the only topic a provisioning client may publish to.</summary>
    public static string RequestTopic(string clientId) => Prefix + clientId + "/request";

    /// <summary><c>pantri/v1/provision/{clientId}/response</c>: the only topic a provisioning client may subscribe to.</summary>
    public static string ResponseTopic(string clientId) => Prefix + clientId + "/response";

    /// <summary>The client id whose response topic <paramref name="topic"/> is, if it is one.</summary>
    public static bool TryGetResponseClientId([NotNullWhen(true)] string? topic, [NotNullWhen(true)] out string? clientId)
    {
        clientId = null;
        if (topic is null || !topic.StartsWith(Prefix, StringComparison.Ordinal) || !topic.EndsWith("/response", StringComparison.Ordinal))
        {
            return false;
        }

        var id = topic[Prefix.Length..^"/response".Length];
        if (!ClientIds.IsProvisioning(id))
        {
            return false;
        }

        clientId = id;
        return true;
    }
}

/// <summary>Pairing codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
/// <c>XXXX-XXXX</c>; dashes, spaces and case do not matter when typed back. 31⁸ ≈ 8.5 × 10¹¹ codes.</summary>
public static class PairingCodes
{
    /// <summary>The characters a code is made of.</summary>
    public const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    /// <summary>Characters in a code.</summary>
    public const int Length = 8;

    /// <summary>A code as typed (<c>7kq2 m9xd</c>, <c>7KQ2-M9XD</c>) in its canonical form (<c>7KQ2M9XD</c>), or null when
    /// it cannot be a code.</summary>
    public static string? Normalize(string? typed)
    {
        if (typed is null || typed.Length > 32)
        {
            return null;
        }

        Span<char> code = stackalloc char[Length];
        var length = 0;
        foreach (var c in typed)
        {
            if (c is '-' or ' ')
            {
                continue;
            }

            var upper = char.ToUpperInvariant(c);
            if (length == Length || !Alphabet.Contains(upper, StringComparison.Ordinal))
            {
                return null;
            }

            code[length++] = upper;
        }

        return length == Length ? new string(code) : null;
    }

    /// <summary>A canonical code as shown to people: <c>7KQ2-M9XD</c>.</summary>
    public static string Format(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return code.Length == Length ? string.Concat(code.AsSpan(0, 4), "-", code.AsSpan(4)) : code;
    }
}

/// <summary>What a new device sends on its provisioning request topic.</summary>
public sealed record ProvisioningRequest
{
    /// <summary>The pairing code (<c>7KQ2-M9XD</c>; dashes and case do not matter).</summary>
    public string? Code { get; init; }
}

/// <summary>The answer on the provisioning response topic: <c>ID</c> 201 with the device's credentials, or a refusal
/// (<c>ID</c> 400 malformed, 404 unknown/expired/used code, 429 too many attempts, 503 unavailable) with
/// <c>Status</c> saying why.</summary>
public sealed record ProvisioningResponse
{
    /// <summary>201 when the device was created; otherwise why not, as in acknowledgements.</summary>
    [JsonPropertyName(FieldNames.Id)]
    public int Id { get; init; }

    /// <summary><c>Done</c>, or <c>Didn't do - …</c>.</summary>
    public string Status { get; init; } = string.Empty;

    /// <summary>The new device's id (its client id and username from now on).</summary>
    public string? DeviceId { get; init; }

    /// <summary>The new device's key (its password), shown this once.</summary>
    [JsonPropertyName(FieldNames.DeviceKey)]
    public string? DeviceKey { get; init; }

    /// <summary>The instructions the device is paired with.</summary>
    [JsonPropertyName("Instruction_Refs")]
    public IReadOnlyList<long>? InstructionRefs { get; init; }
}
