using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Pairing;

/// <summary>Body of <c>POST /v1/pairing-codes</c>.</summary>
public sealed record NewPairingCode
{
    /// <summary>Name the new device will get (default <c>Device</c>).</summary>
    public string Name { get; init; } = "Device";

    /// <summary>Instructions of the household the new device will be paired with.</summary>
    [JsonPropertyName("Instruction_Refs")]
    public IReadOnlyList<long> InstructionRefs { get; init; } = [];
}

/// <summary>A new pairing code, shown this once.</summary>
/// <param name="Code">The code, <c>XXXX-XXXX</c>.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="Name">Name the device will get.</param>
/// <param name="InstructionRefs">Instructions it will be paired with.</param>
public sealed record CreatedPairingCode(string Code, DateTimeOffset ExpiresAt, string Name, [property: JsonPropertyName("Instruction_Refs")] IReadOnlyList<long> InstructionRefs);

/// <summary>Makes a pairing code of a household; only its hash is stored.</summary>
/// <param name="AccountId">The household.</param>
/// <param name="Body">Name and instructions.</param>
/// <param name="CreatedBy">The user asking.</param>
/// <param name="Lifetime">How long it works.</param>
public sealed record CreatePairingCode(string AccountId, NewPairingCode Body, string CreatedBy, TimeSpan Lifetime) : SetupCommand<CreatedPairingCode>
{
    /// <inheritdoc/>
    public override SetupResult<CreatedPairingCode> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var code = RandomNumberGenerator.GetString(PairingCodes.Alphabet, PairingCodes.Length);
        var created = work.Ledger.CreatePairingCode(AccountId, DeviceKeys.Hash(code), Body.Name, Body.InstructionRefs ?? [], CreatedBy, work.Now, work.Now + Lifetime);
        return SetupResult.From(created, c => new CreatedPairingCode(PairingCodes.Format(code), c.ExpiresAt, c.DeviceName, c.InstructionRefs));
    }
}

/// <summary>Redeems a pairing code for a new device: a gateway-assigned id and a new key, paired as the code says.</summary>
/// <param name="Code">The canonical code.</param>
public sealed record RedeemPairingCode(string Code) : SetupCommand<ProvisioningResponse>
{
    /// <inheritdoc/>
    public override SetupResult<ProvisioningResponse> Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var key = DeviceKeys.NewKey();
        var deviceId = NewDeviceIds.Next(id => work.Ledger.Devices.ContainsKey(id));
        return SetupResult.From(work.Ledger.RedeemPairingCode(DeviceKeys.Hash(Code), deviceId, DeviceKeys.Hash(key), work.Now), device => new ProvisioningResponse
        {
            Id = AckIds.OrderPlaced,
            Status = "Done",
            DeviceId = device.DeviceId,
            DeviceKey = key,
            InstructionRefs = work.Ledger.InstructionsPairedWith(device.DeviceId).ToList(),
        });
    }
}
