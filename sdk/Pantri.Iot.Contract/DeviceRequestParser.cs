using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Pantri.Iot.Contract;

/// <summary>Parses device payloads exactly as the contract describes: UTF-8 JSON with case-insensitive field
/// names (unknown fields ignored), a bare decimal instruction ref for triggers, or an empty trigger.</summary>
/// <example>
/// <code>
/// if (DeviceRequestParser.TryParse(kind, payload, out var request, out var error))
/// {
///     // request is a TriggerRequest, LevelReport or UsageReport: switch on its type.
/// }
/// else
/// {
///     var ack = new Acknowledgement
///     {
///         CommandRef = commandRef,
///         Id = AckIds.Malformed,
///         Status = AckIds.DidNotDo(error.Reason),
///         InstructionRef = error.InstructionRef,
///         RequestId = error.RequestId,
///     };
/// }
/// </code>
/// </example>
public static class DeviceRequestParser
{
    /// <summary>Largest payload the contract accepts, in bytes.</summary>
    public const int MaxPayloadBytes = 1024;

    /// <summary>Largest level or usage value accepted; anything bigger is a sensor fault, not a pantry.</summary>
    public const double MaxQuantity = 1_000_000_000;

    private const string NotJson = "payload is not valid JSON";
    private const string BadInstructionRef = "Instruction_Ref must be a positive integer";
    private static readonly string OutOfRange = " must be a finite number between 0 and " + MaxQuantity.ToString("0", CultureInfo.InvariantCulture);

    // The contract's payloads are flat; depth 8 leaves room for ignored extras and bounds what a hostile one costs.
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };

    /// <summary>Parses the payload of a request topic.</summary>
    /// <param name="kind">The topic the payload arrived on; only trigger, level and usage carry requests.</param>
    /// <param name="payload">The raw MQTT payload (or HTTP body).</param>
    /// <param name="request">A <see cref="TriggerRequest"/>, <see cref="LevelReport"/> or <see cref="UsageReport"/>
    /// matching <paramref name="kind"/>, when the method returns true.</param>
    /// <param name="error">What was wrong, plus the RequestId and Instruction_Ref that could still be read, when the
    /// method returns false.</param>
    /// <returns>True when <paramref name="payload"/> is a valid request.</returns>
    public static bool TryParse(
        DeviceTopicKind kind,
        ReadOnlySpan<byte> payload,
        [NotNullWhen(true)] out DeviceRequest? request,
        [NotNullWhen(false)] out MalformedRequest? error)
    {
        var fields = default(Fields);
        var reason = ReadEnvelope(kind, payload, out var body)
            ?? ReadBody(kind, body, ref fields)
            ?? Validate(kind, ref fields);
        if (reason is not null)
        {
            request = null;
            error = new MalformedRequest(reason, FindRequestId(payload), fields.InstructionRef);
            return false;
        }

        request = Build(kind, fields);
        error = null;
        return true;
    }

    // Checked before any byte is interpreted, so an oversized or misrouted payload costs nothing to refuse.
    private static string? ReadEnvelope(DeviceTopicKind kind, ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (!Topics.IsRequest(kind))
        {
            return "not a request topic";
        }

        if (payload.Length > MaxPayloadBytes)
        {
            return "payload larger than 1 KB";
        }

        // JSON is UTF-8, all of it: the reader only checks the strings it decodes, so invalid bytes in an ignored
        // field would otherwise pass.
        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            return NotJson;
        }

        body = Trim(payload);
        return null;
    }

    // The shapes the contract allows: empty (a trigger for the only paired instruction), a bare decimal (the
    // simplest firmware's trigger), or a JSON object.
    private static string? ReadBody(DeviceTopicKind kind, ReadOnlySpan<byte> body, ref Fields fields)
    {
        if (body.IsEmpty)
        {
            return kind == DeviceTopicKind.Trigger ? null : "empty payload; expected JSON with Instruction_Ref";
        }

        if (kind == DeviceTopicKind.Trigger && body[0] is >= (byte)'0' and <= (byte)'9')
        {
            return ReadBareInstructionRef(body, ref fields);
        }

        return ReadJsonObject(kind, body, ref fields);
    }

    private static string? ReadBareInstructionRef(ReadOnlySpan<byte> digits, ref Fields fields)
    {
        if (!TryParsePositiveDecimal(digits, out var value))
        {
            return "a bare payload must be a positive decimal Instruction_Ref";
        }

        fields.InstructionRef = value;
        return null;
    }

    // At most 18 digits, so the sum can never overflow a long; signs, points and exponents are refused.
    private static bool TryParsePositiveDecimal(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.Length > 18)
        {
            return false;
        }

        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return value > 0;
    }

    private static string? ReadJsonObject(DeviceTopicKind kind, ReadOnlySpan<byte> json, ref Fields fields)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "payload must be a JSON object";
            }

            return ReadProperties(kind, ref reader, ref fields) ?? ReadEndOfObject(ref reader);
        }
        catch (JsonException)
        {
            return NotJson;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader.GetString refuses a name or string that is not valid UTF-8 this way.
            return NotJson;
        }
    }

    // Stops at the first field error: the payload is refused anyway, and later fields could only add noise.
    private static string? ReadProperties(DeviceTopicKind kind, ref Utf8JsonReader reader, ref Fields fields)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            if (!reader.Read())
            {
                return null;
            }

            var reason = ReadProperty(kind, name, ref reader, ref fields);
            if (reason is not null)
            {
                return reason;
            }
        }

        return null;
    }

    private static string? ReadProperty(DeviceTopicKind kind, string? name, ref Utf8JsonReader reader, ref Fields fields)
    {
        if (Is(name, FieldNames.InstructionRef))
        {
            return ReadInstructionRef(ref reader, ref fields);
        }

        if (Is(name, FieldNames.RequestId))
        {
            return RequestIds.TryRead(ref reader, out fields.RequestId, out var error) ? null : error;
        }

        if (QuantityName(kind) is { } quantity && Is(name, quantity))
        {
            return ReadQuantity(ref reader, quantity, ref fields);
        }

        // Unknown fields are ignored, as the contract promises, so firmware can send extras without breaking.
        reader.Skip();
        return null;
    }

    // A JSON number or a decimal string: some firmware quotes every value it sends.
    private static string? ReadInstructionRef(ref Utf8JsonReader reader, ref Fields fields)
    {
        long value = 0;
        var valid = reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetInt64(out value),
            JsonTokenType.String => long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
        if (!valid || value <= 0)
        {
            return BadInstructionRef;
        }

        fields.InstructionRef = value;
        return null;
    }

    private static string? ReadQuantity(ref Utf8JsonReader reader, string name, ref Fields fields)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number))
        {
            return name + " must be a number";
        }

        fields.Quantity = number;
        return null;
    }

    // Anything after the closing brace means the device sent something other than one request.
    private static string? ReadEndOfObject(ref Utf8JsonReader reader) =>
        reader.TokenType != JsonTokenType.EndObject || reader.Read() ? "payload is not a single JSON object" : null;

    // A trigger needs nothing (no ref means "the only paired instruction"); a report needs its ref and a sane quantity.
    private static string? Validate(DeviceTopicKind kind, ref Fields fields)
    {
        if (QuantityName(kind) is not { } name)
        {
            return null;
        }

        if (kind == DeviceTopicKind.Usage)
        {
            fields.Quantity ??= 1;
        }

        if (fields.InstructionRef is null)
        {
            return "Instruction_Ref is required";
        }

        if (fields.Quantity is not { } quantity)
        {
            return name + " is required";
        }

        return double.IsFinite(quantity) && quantity is >= 0 and <= MaxQuantity ? null : name + OutOfRange;
    }

    private static DeviceRequest Build(DeviceTopicKind kind, in Fields fields) => kind switch
    {
        DeviceTopicKind.Level => new LevelReport(fields.InstructionRef!.Value, fields.Quantity!.Value) { RequestId = fields.RequestId },
        DeviceTopicKind.Usage => new UsageReport(fields.InstructionRef!.Value, fields.Quantity!.Value) { RequestId = fields.RequestId },
        _ => new TriggerRequest(fields.InstructionRef) { RequestId = fields.RequestId },
    };

    // The error ack should still carry the RequestId so the device can match it to its request, wherever in the
    // payload the error was: the first string or number RequestId decides. This only looks, so it keeps the reader's
    // default limits and gives up quietly.
    private static string? FindRequestId(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRequestId = Is(reader.GetString(), FieldNames.RequestId);
                reader.Read();
                if (isRequestId && reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
                {
                    return RequestIds.TryRead(ref reader, out var requestId, out _) ? requestId : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        return null;
    }

    private static string? QuantityName(DeviceTopicKind kind) => kind switch
    {
        DeviceTopicKind.Level => FieldNames.Level,
        DeviceTopicKind.Usage => FieldNames.Used,
        _ => null,
    };

    private static bool Is(string? name, string expected) => string.Equals(name, expected, StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> payload)
    {
        var start = 0;
        var end = payload.Length;
        while (start < end && IsSpace(payload[start]))
        {
            start++;
        }

        while (end > start && IsSpace(payload[end - 1]))
        {
            end--;
        }

        return payload[start..end];
    }

    // JSON's own whitespace, so a bare decimal and a JSON object are trimmed alike.
    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    // Mutable on purpose: each reader fills in the field it met, and the validation completes them.
    private struct Fields
    {
        public long? InstructionRef;
        public string? RequestId;
        public double? Quantity;
    }
}
