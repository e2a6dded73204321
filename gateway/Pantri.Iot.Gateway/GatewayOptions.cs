using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway;

/// <summary>Gateway settings, bound from <c>Pantri</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri";

    /// <summary>Where the LiteDB file, the signing key and demo-household.json live (default <c>./data</c>).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Create the demo household on first start with an empty data directory (default true).</summary>
    public bool CreateDemoHousehold { get; set; } = true;

    /// <summary>Sustained commands per second one device (or one app account) may send (default 5).</summary>
    [Range(0.001, 1_000_000)]
    public double CommandsPerSecond { get; set; } = 5;

    /// <summary>Commands one device may send in a burst above the sustained rate (default 20).</summary>
    [Range(1, 1_000_000)]
    public int CommandBurst { get; set; } = 20;

    /// <summary>How long a RequestId is remembered (default 24 hours).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most commands decided and committed together in one batch (default 1024).</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 1024;

    /// <summary>Most commands waiting for the writer before new ones get 503 (default 100,000).</summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedCommands { get; set; } = 100_000;

    /// <summary>After a failed commit, how long until the first attempt to reopen storage (default 0.5 s); each failed
    /// attempt doubles it, up to <see cref="StorageRetryMaxDelay"/>. Meanwhile commands get 503 at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan StorageRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between two attempts to reopen storage (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan StorageRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A batch (or recovery attempt) running longer than this makes <c>/readyz</c> report the writer as stalled
    /// (default 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WriterStallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>On SIGTERM, the longest wait for MQTT requests in flight to be committed and for the acks queued for
    /// connected devices to be written, before the connections close (default 10 s). It must fit in the host's own
    /// shutdown timeout (30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Full path of the LiteDB file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "pantri.db");
}
