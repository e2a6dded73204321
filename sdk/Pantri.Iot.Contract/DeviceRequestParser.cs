using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pantri.Iot.Contract;

/// <summary>Parses device payloads exactly as the contract describes: UTF-8 JSON with case-insensitive field
/// names (unknown fields ignored), a bare decimal instruction ref for triggers, or an empty trigger.</summary>
public static class DeviceRequestParser
{
    /// <summary>Largest payload the contract accepts.</summary>
    public const int MaxPayloadBytes = 1024;

    /// <summary>Largest level or usage value accepted; anything bigger is a sensor fault, not a pantry.</summary>
    public const double MaxQuantity = 1_000_000_000;

    /// <summary>Longest RequestId accepted.</summary>
    public const int MaxRequestIdLength = 128;

    /// <summary>Parses <paramref name="payload"/>; on failure <paramref name="error"/> says what was wrong and
    /// <paramref name="requestId"/> still carries the RequestId when one could be read.</summary>
    public static bool TryParse(DeviceTopicKind kind, ReadOnlySpan<byte> payload, out DeviceRequest? request, out string? error)
    {
        request = null;
        error = null;
        if (!Topics.IsRequest(kind))
        {
            error = "not a request topic";
            return false;
        }

        if (payload.Length > MaxPayloadBytes)
        {
            error = "payload larger than 1 KB";
            return false;
        }

        var trimmed = Trim(payload);
        if (trimmed.IsEmpty)
        {
            if (kind == DeviceTopicKind.Trigger)
            {
                request = new DeviceRequest(kind, null, null, null);
                return true;
            }

            error = "empty payload; expected JSON with Instruction_Ref";
            return false;
        }

        if (kind == DeviceTopicKind.Trigger && trimmed[0] is >= (byte)'0' and <= (byte)'9')
        {
            if (Utf8Parser(trimmed, out var bare))
            {
                request = new DeviceRequest(kind, bare, null, null);
                return true;
            }

            error = "a bare payload must be a positive decimal Instruction_Ref";
            return false;
        }

        return TryParseJson(kind, trimmed, out request, out error);
    }

    private static bool TryParseJson(DeviceTopicKind kind, ReadOnlySpan<byte> json, out DeviceRequest? request, out string? error)
    {
        request = null;
        error = null;
        long? instructionRef = null;
        string? requestId = null;
        double? value = null;
        var valueName = kind == DeviceTopicKind.Level ? "Level" : "Used";
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "payload must be a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    break;
                }

                if (Is(name, "Instruction_Ref"))
                {
                    if (!TryReadRef(ref reader, out var parsed))
                    {
                        error = "Instruction_Ref must be a positive integer";
                        return false;
                    }

                    instructionRef = parsed;
                }
                else if (Is(name, "RequestId"))
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        requestId = reader.GetString();
                    }
                    else if (reader.TokenType == JsonTokenType.Number)
                    {
                        requestId = Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error = "RequestId must be a string";
                        return false;
                    }

                    if (requestId is { Length: 0 })
                    {
                        requestId = null;
                    }

                    if (requestId is { Length: > MaxRequestIdLength })
                    {
                        error = "RequestId longer than 128 characters";
                        return false;
                    }
                }
                else if (kind != DeviceTopicKind.Trigger && Is(name, valueName))
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number))
                    {
                        error = valueName + " must be a number";
                        return false;
                    }

                    value = number;
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "payload is not a single JSON object";
                return false;
            }
        }
        catch (JsonException)
        {
            error = "payload is not valid JSON";
            return false;
        }

        if (kind == DeviceTopicKind.Usage)
        {
            value ??= 1;
        }

        if (kind != DeviceTopicKind.Trigger)
        {
            if (instructionRef is null)
            {
                error = "Instruction_Ref is required";
                return false;
            }

            if (value is null)
            {
                error = valueName + " is required";
                return false;
            }

            if (!double.IsFinite(value.Value) || value.Value < 0 || value.Value > MaxQuantity)
            {
                error = valueName + " must be a finite number between 0 and " + MaxQuantity.ToString("0", CultureInfo.InvariantCulture);
                return false;
            }
        }

        request = new DeviceRequest(kind, instructionRef, requestId, value);
        return true;
    }

    /// <summary>Reads just the RequestId of a payload, for error acks of messages that failed to parse.</summary>
    public static string? TryReadRequestId(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(Trim(payload));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (Is(name, "RequestId") && reader.TokenType == JsonTokenType.String)
                {
                    var id = reader.GetString();
                    return id is { Length: > 0 and <= MaxRequestIdLength } ? id : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static bool TryReadRef(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt64(out value) && value > 0;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            return long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
        }

        return false;
    }

    private static bool Utf8Parser(ReadOnlySpan<byte> digits, out long value)
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

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
