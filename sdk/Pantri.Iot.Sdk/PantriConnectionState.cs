namespace Pantri.Iot.Sdk;

/// <summary>Where a <see cref="PantriDeviceClient"/>'s connection stands.</summary>
public enum PantriConnectionState
{
    /// <summary>Not started, or between a lost connection and the next attempt.</summary>
    Disconnected,

    /// <summary>Trying to connect (retrying with backoff while the gateway is unreachable).</summary>
    Connecting,

    /// <summary>Connected and subscribed: queued commands are being sent.</summary>
    Connected,

    /// <summary>The gateway refused the device (see <see cref="PantriAuthenticationException"/>); the client has
    /// stopped trying. Commands stay queued on disk for a client with the right credentials.</summary>
    AuthenticationFailed,

    /// <summary>Disposed.</summary>
    Stopped,
}
