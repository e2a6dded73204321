using Serilog;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Entry.WebSockets;
using Pantri.Iot.Gateway.Telemetry;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Pantri.Iot.Gateway;

/// <summary>Builds the gateway application; <c>Program</c> runs it, tests start it in-process.</summary>
public static class GatewayHost
{
    /// <summary>Creates the app from command-line arguments; <paramref name="configure"/> lets tests swap services.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings ship next to the binary; data paths stay relative to where the gateway is started.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddOptions<ConsoleLogOptions>().BindConfiguration(ConsoleLogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
                // Every failed probe would be an Error line; the gateway logs the outage itself, once.
                .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Fatal)
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                // A refusal to start is reported once, by Program, with its message and without the host's stack trace.
                .Filter.ByExcluding(e => e.Exception is GatewayStartupException);

            // One console sink: either the configuration's own (Serilog:WriteTo) or ours in the chosen format, never both.
            if (!builder.Configuration.GetSection("Serilog:WriteTo").Exists())
            {
                var format = services.GetRequiredService<IOptions<ConsoleLogOptions>>().Value.ConsoleFormat;
                if (format == ConsoleLogOptions.Json)
                {
                    logger.WriteTo.Console(new CompactJsonFormatter());
                }
                else
                {
                    logger.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        });
        builder.AddPantriGateway();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseWebSockets();
        app.UsePantriOpsDashboard();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapPantriApi();
        return app;
    }
}
