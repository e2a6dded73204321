namespace Pantri.Iot.Contract;

/// <summary>JSON field names of the contract's payloads, spelt as the seed document spells them. Deployed firmware
/// matches on these, so they never change; readers match them case-insensitively.</summary>
public static class FieldNames
{
    /// <summary>The instruction a request or ack is about.</summary>
    public const string InstructionRef = "Instruction_Ref";

    /// <summary>The device's idempotency key, echoed in the ack.</summary>
    public const string RequestId = "RequestId";

    /// <summary>Absolute level in a level report (and in an ack after one).</summary>
    public const string Level = "Level";

    /// <summary>Units used in a usage report.</summary>
    public const string Used = "Used";

    /// <summary>A device's secret, in the demo household file and provisioning responses.</summary>
    public const string DeviceKey = "Device_Key";

    /// <summary>A user's bearer token, in the demo household file.</summary>
    public const string UserAuth = "User_Auth";

    /// <summary>The number naming one processed command, in every ack.</summary>
    public const string CommandRef = "CommandRef";

    /// <summary>The outcome code of an ack (see <see cref="AckIds"/>).</summary>
    public const string Id = "ID";

    /// <summary>The outcome text of an ack: <c>Done</c> or <c>Didn't do - reason</c>.</summary>
    public const string Status = "Status";
}
