namespace Pantri.Iot.Broker.Transport;

/// <summary>Thrown by <see cref="MqttFrameGuardStream"/> when a client breaks a frame rule (a packet above the size
/// limit, a malformed length, a first packet that is not CONNECT). An <see cref="IOException"/>, so MQTTnet and the
/// transport treat it as the end of the connection.</summary>
internal sealed class MqttFrameViolationException : IOException
{
    /// <summary>Creates the exception.</summary>
    public MqttFrameViolationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MqttFrameViolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public MqttFrameViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
