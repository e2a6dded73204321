using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pantri.Iot.Broker.Abstractions;

namespace Pantri.Iot.Broker;

/// <summary>Wires the embedded broker into a host.</summary>
public static class BrokerServiceCollectionExtensions
{
    /// <summary>Adds the embedded MQTT broker (options from <c>Pantri:Mqtt</c>). The host must also register an
    /// <see cref="IDeviceAuthenticator"/>, an <see cref="IOpsAuthenticator"/> and an <see cref="IDeviceMessageHandler"/>.</summary>
    public static IHostApplicationBuilder AddPantriBroker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EmbeddedMqttServer>();
        builder.Services.AddSingleton<IGatewayPublisher>(sp => sp.GetRequiredService<EmbeddedMqttServer>());
        builder.Services.AddSingleton<ISessionTerminator>(sp => sp.GetRequiredService<EmbeddedMqttServer>());
        builder.Services.AddHostedService<BrokerHostedService>();
        return builder;
    }
}
