using Microsoft.Extensions.DependencyInjection.Extensions;
using Pantri.Iot.Broker;
using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>Wires the optional Home Assistant bridge (<c>Pantri:HomeAssistant</c>).</summary>
public static class HomeAssistantBuilderExtensions
{
    /// <summary>Binds and validates <see cref="HomeAssistantOptions"/>; when the bridge is on, registers it and puts
    /// its tee in front of the broker's publisher (call after <c>AddPantriBroker</c>). Off, nothing else is added.</summary>
    public static IHostApplicationBuilder AddPantriHomeAssistant(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<HomeAssistantOptions>().BindConfiguration(HomeAssistantOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (!builder.Configuration.GetValue<bool>($"{HomeAssistantOptions.SectionName}:{nameof(HomeAssistantOptions.Enabled)}"))
        {
            return builder;
        }

        services.AddSingleton<HomeAssistantBridge>();
        services.AddHostedService(sp => sp.GetRequiredService<HomeAssistantBridge>());
        services.Replace(ServiceDescriptor.Singleton<IGatewayPublisher>(sp => new HomeAssistantTee(sp.GetRequiredService<EmbeddedMqttServer>(), sp.GetRequiredService<HomeAssistantBridge>())));
        return builder;
    }
}
