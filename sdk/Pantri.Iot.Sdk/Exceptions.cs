namespace Pantri.Iot.Sdk;

/// <summary>The gateway refused this device: a wrong <c>Device_Key</c>, a DeviceId it does not know, a subscription it
/// would not grant, or (with TLS) a certificate that is not trusted. The SDK does not retry: the same credentials would
/// be refused again. Fix the configuration and create a new client.</summary>
public sealed class PantriAuthenticationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PantriAuthenticationException()
        : this("The gateway refused the device's credentials.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was refused.</param>
    public PantriAuthenticationException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What was refused.</param>
    /// <param name="innerException">The cause, such as a TLS authentication failure.</param>
    public PantriAuthenticationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The MQTT CONNACK reason (such as <c>BadUserNameOrPassword</c>) when the refusal came from CONNACK.</summary>
    public string? ReasonCode { get; init; }
}

/// <summary>No acknowledgement arrived within <see cref="PantriDeviceOptions.AckTimeout"/>. The command is not lost: it
/// stays in the queue (on disk with <see cref="PantriDeviceOptions.QueuePath"/>) and is sent, with the same RequestId,
/// until the gateway acknowledges it; <see cref="PantriDeviceClient.CommandCompleted"/> reports that ack.</summary>
public sealed class PantriAckTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public PantriAckTimeoutException()
        : this("No acknowledgement arrived in time; the command stays queued.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What timed out.</param>
    public PantriAckTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What timed out.</param>
    /// <param name="innerException">The cause.</param>
    public PantriAckTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The command that is still waiting for its ack.</summary>
    public PantriCommand? Command { get; init; }

    /// <summary>Whether the client was connected when the wait ended (false: the command waits for the connection).</summary>
    public bool WasConnected { get; init; }
}

/// <summary>The queue already holds <see cref="PantriDeviceOptions.QueueCapacity"/> commands waiting for their ack.
/// The new command was not queued (nothing was sent); the ones already queued are kept.</summary>
public sealed class PantriQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public PantriQueueFullException()
        : this("The command queue is full.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Why the command was refused.</param>
    public PantriQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">Why the command was refused.</param>
    /// <param name="innerException">The cause.</param>
    public PantriQueueFullException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The queue's capacity.</summary>
    public int Capacity { get; init; }
}

/// <summary>The broker refused to take the command at all (an MQTT 5 PUBACK with an error reason, such as
/// <c>NotAuthorized</c>), so no acknowledgement will come. The command was removed from the queue.</summary>
public sealed class PantriCommandRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PantriCommandRejectedException()
        : this("The broker refused the command.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What the broker said.</param>
    public PantriCommandRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What the broker said.</param>
    /// <param name="innerException">The cause.</param>
    public PantriCommandRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The refused command.</summary>
    public PantriCommand? Command { get; init; }

    /// <summary>The PUBACK reason code, such as <c>NotAuthorized</c>.</summary>
    public string? ReasonCode { get; init; }
}
