using Microsoft.Extensions.FileProviders;

namespace Pantri.Iot.Gateway.Entry.WebSockets;

/// <summary>The ops dashboard: static files (<c>wwwroot/ops</c>, shipped next to the binary) served at
/// <see cref="Path"/>. The page itself holds no secret: it logs in over MQTT (<c>/mqtt</c>) with the ops credential
/// the operator types in.</summary>
public static class OpsDashboard
{
    /// <summary>Where the dashboard is served.</summary>
    public const string Path = "/ops";

    /// <summary>Serves <c>wwwroot/ops</c> at <see cref="Path"/> (<c>/ops</c> redirects to <c>/ops/</c>, which serves <c>index.html</c>).</summary>
    public static WebApplication UsePantriOpsDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var root = System.IO.Path.Combine(AppContext.BaseDirectory, "wwwroot", "ops");
        if (!Directory.Exists(root))
        {
            return app;
        }

        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { RequestPath = Path, FileProvider = files });
        return app;
    }
}
