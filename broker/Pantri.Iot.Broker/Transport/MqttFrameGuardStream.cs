namespace Pantri.Iot.Broker.Transport;

/// <summary>Wraps a client's socket stream and follows the MQTT fixed headers as bytes arrive. A packet that
/// announces more than the maximum size ends the connection before its body is read (MQTTnet would otherwise
/// allocate the announced length up front); so does a first packet that is not a CONNECT. The first packet, CONNECT,
/// is captured so its Will can be checked, and <see cref="ReceiveConnectAsync"/> reads it in full before MQTTnet
/// sees a byte, so the transport can bound how long a connection may take to log in.</summary>
internal sealed class MqttFrameGuardStream(Stream inner, int maxPacketSize) : Stream
{
    private const int MaxConnectCapture = 64 * 1024;
    private const int ConnectPacketType = 1;
    private readonly Stream _inner = inner;
    private ReadOnlyMemory<byte> _received;
    private State _state = State.Header;
    private long _remaining;
    private int _lengthShift;
    private int _headerBytes;
    private bool _connectSeen;
    private byte[]? _connectBody;
    private int _connectFill;

    private enum State
    {
        Header,
        Length,
        Body,
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>True once the whole first packet (the CONNECT) has arrived.</summary>
    public bool ConnectReceived { get; private set; }

    /// <summary>What the CONNECT said about its Will; null until it was read in full (or when it was malformed).</summary>
    public ConnectPacketInfo? Connect { get; private set; }

    /// <summary>Reads until the whole CONNECT packet has arrived and keeps those bytes (and any that came with them)
    /// for MQTTnet's first reads. False when the client closed the connection first. Throws
    /// <see cref="IOException"/> when the first packet is not a CONNECT or is too large, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> (the CONNECT timeout) fires.</summary>
    public async Task<bool> ReceiveConnectAsync(CancellationToken cancellationToken)
    {
        var received = new System.Buffers.ArrayBufferWriter<byte>(256);
        while (!ConnectReceived)
        {
            var memory = received.GetMemory(512);
            var read = await _inner.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            Inspect(memory.Span[..read]);
            received.Advance(read);
        }

        _received = received.WrittenMemory;
        return true;
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TakeReceived(buffer.Span) is var taken and > 0)
        {
            return taken;
        }

        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Inspect(buffer.Span[..read]);
        return read;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (TakeReceived(buffer.AsSpan(offset, count)) is var taken and > 0)
        {
            return taken;
        }

        var read = _inner.Read(buffer, offset, count);
        Inspect(buffer.AsSpan(offset, read));
        return read;
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override void Flush() => _inner.Flush();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Serves bytes <see cref="ReceiveConnectAsync"/> already read (and inspected).</summary>
    private int TakeReceived(Span<byte> destination)
    {
        if (_received.IsEmpty || destination.IsEmpty)
        {
            return 0;
        }

        var take = Math.Min(destination.Length, _received.Length);
        _received.Span[..take].CopyTo(destination);
        // An empty slice would still hold the whole receive buffer for the life of the connection.
        _received = take == _received.Length ? ReadOnlyMemory<byte>.Empty : _received[take..];
        return take;
    }

    private void Inspect(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case State.Header:
                    if (!_connectSeen && data[i] >> 4 != ConnectPacketType)
                    {
                        throw new MqttFrameViolationException("The first MQTT packet is not a CONNECT.");
                    }

                    _remaining = 0;
                    _lengthShift = 0;
                    _headerBytes = 1;
                    _state = State.Length;
                    i++;
                    break;
                case State.Length:
                    var b = data[i++];
                    _headerBytes++;
                    _remaining |= (long)(b & 0x7F) << _lengthShift;
                    _lengthShift += 7;
                    if ((b & 0x80) != 0)
                    {
                        if (_lengthShift >= 28)
                        {
                            throw new MqttFrameViolationException("Malformed MQTT remaining length.");
                        }

                        break;
                    }

                    if (_remaining + _headerBytes > maxPacketSize)
                    {
                        throw new MqttFrameViolationException($"MQTT packet of {_remaining + _headerBytes} bytes exceeds the limit of {maxPacketSize}.");
                    }

                    if (!_connectSeen)
                    {
                        _connectSeen = true;
                        _connectBody = new byte[Math.Min(_remaining, MaxConnectCapture)];
                        _connectFill = 0;
                        if (_remaining == 0)
                        {
                            FinishConnect();
                        }
                    }

                    _state = _remaining == 0 ? State.Header : State.Body;
                    break;
                case State.Body:
                    var take = (int)Math.Min(_remaining, data.Length - i);
                    if (_connectBody is not null)
                    {
                        var copy = Math.Min(take, _connectBody.Length - _connectFill);
                        data.Slice(i, copy).CopyTo(_connectBody.AsSpan(_connectFill));
                        _connectFill += copy;
                    }

                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        if (_connectBody is not null)
                        {
                            FinishConnect();
                        }

                        _state = State.Header;
                    }

                    break;
            }
        }
    }

    private void FinishConnect()
    {
        var body = _connectBody!;
        _connectBody = null;
        ConnectReceived = true;
        Connect = ConnectPacketInfo.Parse(body.AsSpan(0, _connectFill));
    }
}
