using Microsoft.Extensions.DependencyInjection.Extensions;
using Pantri.Iot.Broker;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Entry.ExternalBroker;

/// <summary>Wires <c>Pantri:Broker</c>: nothing changes in Embedded mode; in External mode the embedded broker's
/// listener is not started and the gateway publishes and takes requests through the external broker.</summary>
public static class ExternalBrokerExtensions
{
    /// <summary>Registers the broker mode's options and, in External mode, the external connection, the intake and
    /// (unless turned off) the Mosquitto dynamic security sync. Call after <c>AddPantriBroker</c>: it replaces its
    /// publisher and removes its listener.</summary>
    public static IHostApplicationBuilder AddPantriExternalBroker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ExternalBrokerOptions>().BindConfiguration(ExternalBrokerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(ExternalBrokerOptions.SectionName).Get<ExternalBrokerOptions>() ?? new ExternalBrokerOptions();
        if (options.Mode != BrokerMode.External)
        {
            services.TryAddSingleton<IDeviceCredentialSync, NoCredentialSync>();
            return builder;
        }

        // The embedded server object stays (shutdown drain and /mqtt ask it; unstarted, it holds nothing and refuses
        // WebSocket clients), but its listener never starts.
        services.RemoveAll<IGatewayPublisher>();
        var listener = services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(BrokerHostedService)).ToList();
        foreach (var descriptor in listener)
        {
            services.Remove(descriptor);
        }

        services.AddSingleton<ExternalBrokerConnection>();
        services.AddSingleton<IGatewayPublisher>(sp => sp.GetRequiredService<ExternalBrokerConnection>());
        services.AddHostedService(sp => sp.GetRequiredService<ExternalBrokerConnection>());
        if (options.MosquittoDynamicSecurity)
        {
            services.AddSingleton<MosquittoDynamicSecurity>();
            services.AddSingleton<IDeviceCredentialSync>(sp => sp.GetRequiredService<MosquittoDynamicSecurity>());
            // First of all hosted services: the gateway's own role (publishing ops and acks, the shared
            // subscriptions) must exist before the demo household and the ops state rebuild publish.
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<MosquittoDynamicSecurity>()));
        }
        else
        {
            services.TryAddSingleton<IDeviceCredentialSync, NoCredentialSync>();
        }

        services.TryAddSingleton<ClientCredentials>();
        services.AddSingleton<BrokerHttpAuth>();
        services.AddSingleton<ExternalBrokerIntake>();
        services.AddHostedService(sp => sp.GetRequiredService<ExternalBrokerIntake>());
        return builder;
    }
}
