using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>An acknowledgement and its JSON, serialised once: these bytes are stored, published and replayed.</summary>
/// <param name="Ack">The acknowledgement.</param>
/// <param name="Json">Its UTF-8 JSON.</param>
public sealed record CommandAck(Acknowledgement Ack, ReadOnlyMemory<byte> Json)
{
    /// <summary>Serialises <paramref name="ack"/>.</summary>
    public static CommandAck Of(Acknowledgement ack) => new(ack, ContractJson.Serialize(ack));
}
