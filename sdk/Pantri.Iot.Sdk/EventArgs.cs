using Pantri.Iot.Contract;

namespace Pantri.Iot.Sdk;

/// <summary>Arguments of <see cref="PantriDeviceClient.ConnectionStateChanged"/>.</summary>
/// <param name="state">The new state.</param>
/// <param name="error">Why the connection was lost or refused, when it was.</param>
public sealed class PantriConnectionStateChangedEventArgs(PantriConnectionState state, Exception? error) : EventArgs
{
    /// <summary>The new state.</summary>
    public PantriConnectionState State { get; } = state;

    /// <summary>Why the connection was lost or refused, when it was.</summary>
    public Exception? Error { get; } = error;
}

/// <summary>Arguments of <see cref="PantriDeviceClient.Reconnecting"/>: one failed connection attempt and the delay
/// before the next.</summary>
/// <param name="attempt">1 for the first retry after a failed attempt; back to 1 after a good connection.</param>
/// <param name="delay">The backoff (exponential, with jitter) before the next attempt.</param>
/// <param name="error">Why the attempt failed.</param>
public sealed class PantriReconnectingEventArgs(int attempt, TimeSpan delay, Exception? error) : EventArgs
{
    /// <summary>1 for the first retry after a failed attempt; back to 1 after a good connection.</summary>
    public int Attempt { get; } = attempt;

    /// <summary>The backoff before the next attempt.</summary>
    public TimeSpan Delay { get; } = delay;

    /// <summary>Why the attempt failed.</summary>
    public Exception? Error { get; } = error;
}

/// <summary>Arguments of <see cref="PantriDeviceClient.CommandCompleted"/>: a queued command left the queue.</summary>
/// <param name="command">The command.</param>
/// <param name="acknowledgement">The gateway's ack, or null when the broker refused the command outright.</param>
/// <param name="error">Why there is no ack, when there is none.</param>
public sealed class PantriCommandCompletedEventArgs(PantriCommand command, Acknowledgement? acknowledgement, Exception? error) : EventArgs
{
    /// <summary>The command.</summary>
    public PantriCommand Command { get; } = command;

    /// <summary>The gateway's ack (its <c>Replayed</c> is true when an earlier send had already been processed), or
    /// null when the broker refused the command outright.</summary>
    public Acknowledgement? Acknowledgement { get; } = acknowledgement;

    /// <summary>Why there is no ack, when there is none.</summary>
    public Exception? Error { get; } = error;
}

/// <summary>Arguments of <see cref="PantriDeviceClient.OrderStatusChanged"/>.</summary>
/// <param name="status">The order's new state.</param>
public sealed class PantriOrderStatusEventArgs(OrderStatus status) : EventArgs
{
    /// <summary>The order's new state, as published on <c>pantri/v1/devices/{DeviceId}/orders</c>.</summary>
    public OrderStatus Status { get; } = status;
}
