using Serilog;
using Serilog.Events;

namespace Pantri.Iot.Gateway;

/// <summary>Builds the gateway application; <c>Program</c> runs it, tests start it in-process.</summary>
public static class GatewayHost
{
    /// <summary>Creates the app from command-line arguments; <paramref name="configure"/> lets tests swap services.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings ship next to the binary; data paths stay relative to where the gateway is started.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSerilog((services, logger) => logger
            // Every failed probe would be an Error line; the gateway logs the outage itself, once.
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Fatal)
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            // A refusal to start is reported once, by Program, with its message and without the host's stack trace.
            .Filter.ByExcluding(e => e.Exception is GatewayStartupException)
            .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture));
        builder.AddPantriGateway();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapPantriApi();
        return app;
    }
}
