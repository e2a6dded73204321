namespace Pantri.Iot.Broker.Transport;

/// <summary>What the broker needs from a CONNECT packet that MQTTnet's validation event does not expose: the Will.</summary>
/// <param name="HasWill">The CONNECT carries a Will message.</param>
/// <param name="WillTopic">Its topic.</param>
/// <param name="WillRetain">Whether it would be retained.</param>
internal sealed record ConnectPacketInfo(bool HasWill, string? WillTopic, bool WillRetain)
{
    /// <summary>Reads the Will of a CONNECT body (variable header + payload); null when the body is malformed.</summary>
    public static ConnectPacketInfo? Parse(ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        if (!reader.TrySkipString() || !reader.TryReadByte(out var level) || !reader.TryReadByte(out var flags) || !reader.TrySkip(2))
        {
            return null;
        }

        var isV5 = level == 5;
        if (isV5 && !reader.TrySkipProperties())
        {
            return null;
        }

        if (!reader.TrySkipString())
        {
            return null;
        }

        var hasWill = (flags & 0x04) != 0;
        if (!hasWill)
        {
            return new ConnectPacketInfo(false, null, false);
        }

        if (isV5 && !reader.TrySkipProperties())
        {
            return null;
        }

        return reader.TryReadString(out var topic) ? new ConnectPacketInfo(true, topic, (flags & 0x20) != 0) : null;
    }

    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;

        public bool TryReadByte(out byte value)
        {
            value = 0;
            if (_position >= _span.Length)
            {
                return false;
            }

            value = _span[_position++];
            return true;
        }

        public bool TrySkip(int count)
        {
            if (_position + count > _span.Length)
            {
                return false;
            }

            _position += count;
            return true;
        }

        public bool TrySkipString() => TryReadLength(out var length) && TrySkip(length);

        public bool TryReadString(out string value)
        {
            value = string.Empty;
            if (!TryReadLength(out var length) || _position + length > _span.Length)
            {
                return false;
            }

            value = System.Text.Encoding.UTF8.GetString(_span.Slice(_position, length));
            _position += length;
            return true;
        }

        public bool TrySkipProperties()
        {
            var length = 0;
            for (var shift = 0; shift < 28; shift += 7)
            {
                if (!TryReadByte(out var b))
                {
                    return false;
                }

                length |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return TrySkip(length);
                }
            }

            return false;
        }

        private bool TryReadLength(out int length)
        {
            length = 0;
            if (_position + 2 > _span.Length)
            {
                return false;
            }

            length = (_span[_position] << 8) | _span[_position + 1];
            _position += 2;
            return true;
        }
    }
}
