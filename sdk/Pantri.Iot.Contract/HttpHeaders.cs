namespace Pantri.Iot.Contract;

/// <summary>Request headers of the HTTP trigger (<c>POST /v1/trigger</c>), spelt as the seed's curl spells them.</summary>
public static class HttpHeaders
{
    /// <summary>A device's secret: the caller is that device.</summary>
    public const string DeviceKey = "Device_Key";

    /// <summary>An app user's bearer token (<c>Bearer</c> prefix optional): the caller acts for the token's account.</summary>
    public const string UserAuth = "User_Auth";

    /// <summary>The instruction to trigger; optional for a device with exactly one paired instruction.</summary>
    public const string InstructionRef = "Instruction_Ref";

    /// <summary>The idempotency key, under the same rule as the MQTT field (see <see cref="RequestIds"/>).</summary>
    public const string RequestId = "RequestId";

    /// <summary>The conventional HTTP name for the same idempotency key, for clients that already send it.</summary>
    public const string IdempotencyKey = "Idempotency-Key";
}
