using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Sdk;

/// <summary>Wires a <see cref="PantriDeviceClient"/> into a .NET host.</summary>
public static class PantriDeviceHostingExtensions
{
    /// <summary>Registers one <see cref="PantriDeviceClient"/> as a singleton, with <see cref="PantriDeviceOptions"/>
    /// bound from the <c>Pantri:Device</c> section (validated when the host starts), and a hosted service that starts
    /// it with the host (without waiting for the gateway: commands queue until it is reachable) and disposes it when
    /// the host stops.</summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="configure">Applied after configuration binding, e.g. to set the key from a secret store.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// var builder = Host.CreateApplicationBuilder(args);   // Pantri:Device:Host, :DeviceId, :DeviceKey, :QueuePath…
    /// builder.AddPantriDevice();
    /// builder.Services.AddHostedService&lt;ButtonWorker&gt;(); // takes PantriDeviceClient in its constructor
    /// await builder.Build().RunAsync();
    /// </code>
    /// </example>
    public static IHostApplicationBuilder AddPantriDevice(this IHostApplicationBuilder builder, Action<PantriDeviceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<PantriDeviceOptions>()
            .BindConfiguration(PantriDeviceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(services => new PantriDeviceClient(
            services.GetRequiredService<IOptions<PantriDeviceOptions>>().Value,
            services.GetService<ILogger<PantriDeviceClient>>(),
            services.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService<PantriDeviceHostedService>();
        return builder;
    }
}

/// <summary>Starts the registered client with the host and disposes it when the host stops.</summary>
internal sealed class PantriDeviceHostedService(PantriDeviceClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken) => await client.DisposeAsync().ConfigureAwait(false);
}
