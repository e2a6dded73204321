using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pantri.Iot.LoadTest;

/// <summary>One simulated device: its login and the instruction it presses for.</summary>
/// <param name="DeviceId">ClientId and Username.</param>
/// <param name="Key">Password (Device_Key).</param>
/// <param name="InstructionRef">Instruction paired with it.</param>
public sealed record DeviceCredential(string DeviceId, [property: JsonPropertyName("Device_Key")] string Key, [property: JsonPropertyName("Instruction_Ref")] long InstructionRef)
{
    /// <summary>More instructions paired with it, one per order-placing trigger (<see cref="Load.RequestKind.Order"/>).</summary>
    public IReadOnlyList<long> OrderInstructionRefs { get; init; } = [];

    private static readonly JsonSerializerOptions FileOptions = new() { WriteIndented = false };

    /// <summary>Reads a credentials file (a JSON array of these records).</summary>
    public static async Task<IReadOnlyList<DeviceCredential>> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<List<DeviceCredential>>(stream, FileOptions, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{path} holds no credentials");
    }

    /// <summary>Writes a credentials file.</summary>
    public static async Task WriteFileAsync(string path, IReadOnlyList<DeviceCredential> devices, CancellationToken cancellationToken)
    {
        await using var stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, devices, FileOptions, cancellationToken).ConfigureAwait(false);
    }
}
