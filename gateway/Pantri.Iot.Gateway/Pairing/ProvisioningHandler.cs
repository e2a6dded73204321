using System.Text.Json;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Pairing;

/// <summary>Answers pairing-code requests of provisioning clients: refuses while the source address or the
/// installation is over its wrong-code limits (<see cref="PairingAttemptGuard"/>), reads the code, and redeems it on
/// the writer. Every wrong or malformed code counts against the limits.</summary>
public sealed partial class ProvisioningHandler(SetupService setup, PairingAttemptGuard guard, ILogger<ProvisioningHandler> logger) : IProvisioningHandler
{
    private static readonly ReadOnlyMemory<byte> Blocked = Refusal(AckIds.TooFast, "too many wrong pairing codes; wait and ask for a new code");

    /// <inheritdoc/>
    public async Task<ReadOnlyMemory<byte>> HandleAsync(ProvisioningMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!guard.IsAllowed(message.Address))
        {
            return Blocked;
        }

        string? code;
        try
        {
            code = PairingCodes.Normalize(ContractJson.DeserializeProvisioningRequest(message.Payload.Span)?.Code);
        }
        catch (JsonException)
        {
            code = null;
        }

        if (code is null)
        {
            Failed(message);
            return Refusal(AckIds.Malformed, $"send {{\"Code\": \"XXXX-XXXX\"}} with the {PairingCodes.Length}-character pairing code");
        }

        var result = await setup.RunAsync(new RedeemPairingCode(code) { By = "provisioning:" + message.ClientId }, cancellationToken).ConfigureAwait(false);
        if (result.Error is null)
        {
            LogProvisioned(logger, result.Value!.DeviceId!, message.ClientId);
            return ContractJson.Serialize(result.Value!);
        }

        if (result.Status == AckIds.UnknownInstruction)
        {
            Failed(message);
        }

        return Refusal(result.Status, result.Error);
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> TooManyAttempts() => Refusal(AckIds.TooFast, "too many attempts on one connection");

    private void Failed(ProvisioningMessage message)
    {
        if (guard.Failed(message.Address))
        {
            LogAddressBlocked(logger, message.Address?.ToString() ?? "unknown");
        }
    }

    private static byte[] Refusal(int id, string reason) => ContractJson.Serialize(new ProvisioningResponse { Id = id, Status = "Didn't do - " + reason });

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Provisioned device {DeviceId} through pairing code (client {ClientId})")]
    private static partial void LogProvisioned(ILogger logger, string deviceId, string clientId);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Pairing-code attempts from {Address} refused for a while: a burst of wrong codes")]
    private static partial void LogAddressBlocked(ILogger logger, string address);
}
