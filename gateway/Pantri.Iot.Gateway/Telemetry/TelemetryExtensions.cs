using OpenTelemetry.Metrics;
using Pantri.Iot.Broker;

namespace Pantri.Iot.Gateway.Telemetry;

/// <summary>Wires the gateway's and the broker's meters (and the .NET runtime's) to OpenTelemetry, exported in the
/// Prometheus text format at <see cref="MetricsPath"/>.</summary>
public static class TelemetryExtensions
{
    /// <summary>Where Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Registers <see cref="GatewayMetrics"/> and the OpenTelemetry meter provider with the Prometheus exporter.</summary>
    public static IServiceCollection AddPantriMetrics(this IServiceCollection services)
    {
        services.AddSingleton<GatewayMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName, BrokerMetrics.MeterName, "System.Runtime")
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>Maps the Prometheus scraping endpoint at <see cref="MetricsPath"/>.</summary>
    public static IEndpointRouteBuilder MapPantriMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
