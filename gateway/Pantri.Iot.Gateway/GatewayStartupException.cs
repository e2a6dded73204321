namespace Pantri.Iot.Gateway;

/// <summary>The gateway refuses to start, for a reason an operator can act on (the data directory is in use, a file in
/// it is damaged or missing). <see cref="Exception.Message"/> names the file or directory and says what to do; the
/// host logs it as it is, without a stack trace, and exits with code 2.</summary>
public sealed class GatewayStartupException : Exception
{
    /// <summary>Creates the refusal.</summary>
    public GatewayStartupException()
    {
    }

    /// <summary>Creates the refusal with the operator-facing reason.</summary>
    public GatewayStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the refusal with the operator-facing reason and what caused it.</summary>
    public GatewayStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
