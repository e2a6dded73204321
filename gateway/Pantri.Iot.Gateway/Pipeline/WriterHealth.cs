namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>A snapshot of the writer for the health checks.</summary>
/// <param name="IsRunning">The writer thread is alive.</param>
/// <param name="StorageAvailable">The last commit (or recovery probe) succeeded; false during a storage outage.</param>
/// <param name="BusyFor">How long the current batch (or recovery attempt) has been running; zero while waiting for work.</param>
/// <param name="StorageError">Why storage is unavailable, while it is.</param>
public readonly record struct WriterHealth(bool IsRunning, bool StorageAvailable, TimeSpan BusyFor, string? StorageError);
