using System.Net;

namespace Pantri.Iot.Broker.Abstractions;

/// <summary>A pairing-code request a provisioning client published on its own request topic.</summary>
/// <param name="ClientId">The client's id (<c>prov-…</c>).</param>
/// <param name="Address">Its source address, for per-address limits (null when unknown).</param>
/// <param name="Payload">A copy of the payload.</param>
public sealed record ProvisioningMessage(string ClientId, IPAddress? Address, ReadOnlyMemory<byte> Payload);

/// <summary>Where the broker hands pairing-code requests; the answer is published on the client's response topic.</summary>
public interface IProvisioningHandler
{
    /// <summary>Decides one request and returns the response payload (UTF-8 JSON).</summary>
    Task<ReadOnlyMemory<byte>> HandleAsync(ProvisioningMessage message, CancellationToken cancellationToken);

    /// <summary>The response payload for a request refused before it reached <see cref="HandleAsync"/> (too many
    /// attempts on one connection).</summary>
    ReadOnlyMemory<byte> TooManyAttempts();
}
