using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pantri.Iot.Contract;

/// <summary>Writes request payloads as the contract spells them (UTF-8 JSON, <see cref="FieldNames"/>), so samples,
/// tests and the SDK never build JSON by string interpolation, where a quote in a RequestId breaks the payload.</summary>
/// <remarks>The writers do not validate: a test may write an out-of-range level on purpose to see the error ack.
/// <see cref="DeviceRequestParser"/> is the judge. A null or empty RequestId is left out, as the parser reads it as
/// none anyway.</remarks>
/// <example>
/// <code>
/// await client.PublishAsync(new MqttApplicationMessageBuilder()
///     .WithTopic(Topics.Device(deviceId, DeviceTopicKind.Trigger))
///     .WithPayload(RequestPayloads.Trigger(instructionRef, requestId: Guid.NewGuid().ToString("N")))
///     .Build());
/// </code>
/// </example>
public static class RequestPayloads
{
    // Relaxed escaping, as for acks: a RequestId with non-ASCII text stays readable on the wire.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A trigger payload: <c>{"Instruction_Ref": …, "RequestId": …}</c>, or <c>{}</c> when both are null
    /// (the device's only paired instruction, without idempotency).</summary>
    /// <param name="instructionRef">The instruction, or null for the device's only paired instruction.</param>
    /// <param name="requestId">The idempotency key, or null.</param>
    public static byte[] Trigger(long? instructionRef = null, string? requestId = null) =>
        Write(instructionRef, quantityName: null, quantity: 0, requestId);

    /// <summary>A level report: <c>{"Instruction_Ref": …, "Level": …, "RequestId": …}</c>.</summary>
    /// <param name="instructionRef">The tracked instruction.</param>
    /// <param name="level">The absolute level in the instruction's unit.</param>
    /// <param name="requestId">The idempotency key, or null.</param>
    /// <exception cref="ArgumentException"><paramref name="level"/> is NaN or infinite, which JSON cannot carry.</exception>
    public static byte[] Level(long instructionRef, double level, string? requestId = null) =>
        Write(instructionRef, FieldNames.Level, level, requestId);

    /// <summary>A usage report: <c>{"Instruction_Ref": …, "Used": …, "RequestId": …}</c>; <c>Used</c> is always
    /// written, though the contract would default it to 1.</summary>
    /// <param name="instructionRef">The tracked instruction.</param>
    /// <param name="used">Units taken since the last report.</param>
    /// <param name="requestId">The idempotency key, or null.</param>
    /// <exception cref="ArgumentException"><paramref name="used"/> is NaN or infinite, which JSON cannot carry.</exception>
    public static byte[] Usage(long instructionRef, double used = 1, string? requestId = null) =>
        Write(instructionRef, FieldNames.Used, used, requestId);

    private static byte[] Write(long? instructionRef, string? quantityName, double quantity, string? requestId)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            if (instructionRef is { } reference)
            {
                writer.WriteNumber(FieldNames.InstructionRef, reference);
            }

            if (quantityName is not null)
            {
                writer.WriteNumber(quantityName, quantity);
            }

            if (!string.IsNullOrEmpty(requestId))
            {
                writer.WriteString(FieldNames.RequestId, requestId);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
