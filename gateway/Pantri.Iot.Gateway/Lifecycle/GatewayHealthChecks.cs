using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Pantri.Iot.Broker;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Lifecycle;

/// <summary>Liveness and readiness, as ASP.NET Core health checks. <c>/healthz</c> (liveness: restart me if this fails)
/// is the writer thread being alive. <c>/readyz</c> (readiness: send me traffic) is <c>storage</c> (the last commit or
/// recovery probe succeeded), <c>writer</c> (alive, and no batch running longer than
/// <see cref="GatewayOptions.WriterStallTimeout"/>) and <c>broker</c> (MQTT listening, the gateway not stopping). Both
/// answer 200 or 503 with <c>{"Status", "Checks": [{"Name", "Status", "Description"}]}</c>.</summary>
public static class GatewayHealthChecks
{
    /// <summary>Tag of the liveness checks.</summary>
    public const string Live = "live";

    /// <summary>Tag of the readiness checks.</summary>
    public const string Ready = "ready";

    /// <summary>Registers the checks.</summary>
    public static IServiceCollection AddPantriHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<WriterThreadCheck>("writer-thread", tags: [Live])
            .AddCheck<StorageCheck>("storage", tags: [Ready])
            .AddCheck<WriterCheck>("writer", tags: [Ready])
            .AddCheck<BrokerCheck>("broker", tags: [Ready]);
        return services;
    }

    /// <summary>Maps <c>/healthz</c> and <c>/readyz</c>.</summary>
    public static IEndpointRouteBuilder MapPantriHealthChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Live), ResponseWriter = WriteAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync });
        return app;
    }

    private static Task WriteAsync(HttpContext http, HealthReport report) =>
        http.Response.WriteAsJsonAsync(new HealthBody(
            report.Status.ToString(),
            report.Entries.Select(e => new HealthEntry(e.Key, e.Value.Status.ToString(), e.Value.Description)).ToList()));

    private sealed record HealthBody(string Status, IReadOnlyList<HealthEntry> Checks);

    private sealed record HealthEntry(string Name, string Status, string? Description);

    private sealed class WriterThreadCheck(CommandWriter writer) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(writer.Health.IsRunning ? HealthCheckResult.Healthy("the writer thread runs") : HealthCheckResult.Unhealthy("the writer thread is not running"));
    }

    private sealed class StorageCheck(CommandWriter writer) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var health = writer.Health;
            return Task.FromResult(health.StorageAvailable
                ? HealthCheckResult.Healthy("the last commit succeeded")
                : HealthCheckResult.Unhealthy($"storage unavailable ({health.StorageError}); commands get 503 while it is reopened"));
        }
    }

    private sealed class WriterCheck(CommandWriter writer, IOptions<GatewayOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var health = writer.Health;
            var stall = options.Value.WriterStallTimeout;
            return Task.FromResult(
                !health.IsRunning ? HealthCheckResult.Unhealthy("the writer thread is not running")
                : health.BusyFor > stall ? HealthCheckResult.Unhealthy($"the writer has been on one batch for {health.BusyFor:g} (stalled past {stall:g})")
                : HealthCheckResult.Healthy("the writer is taking commands"));
        }
    }

    private sealed class BrokerCheck(EmbeddedMqttServer broker, IHostApplicationLifetime lifetime, IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(
                lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("the gateway is stopping")
                // Pantri:Broker:Mode=External: no listener here; ready while connected to the external broker.
                : services.GetService<Entry.ExternalBroker.ExternalBrokerConnection>() is { } external
                    ? (external.IsConnected ? HealthCheckResult.Healthy("connected to the external broker") : HealthCheckResult.Unhealthy("not connected to the external broker"))
                : broker.IsStarted ? HealthCheckResult.Healthy($"MQTT listening on port {(broker.Port != 0 ? broker.Port : broker.TlsPort)}")
                : HealthCheckResult.Unhealthy("MQTT is not listening"));
    }
}
