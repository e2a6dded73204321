using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Pantri.Iot.Broker.Transport;

namespace Pantri.Iot.Gateway.Tls;

/// <summary>Wires <c>Pantri:Tls</c>: the certificate, MQTT over TLS in the embedded broker, and Kestrel's HTTPS.</summary>
public static class TlsBuilderExtensions
{
    /// <summary>Binds and validates <see cref="TlsOptions"/>; when TLS is on, registers <see cref="ServerCertificates"/>
    /// (call this right after the data directory lock: its hosted service loads the certificate under the lock), the
    /// broker's <see cref="MqttTlsEndpoint"/>, and the certificate and TLS 1.2+ for every <c>https://</c> address of
    /// Kestrel.</summary>
    public static IHostApplicationBuilder AddPantriTls(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (!builder.Configuration.GetValue<bool>($"{TlsOptions.SectionName}:{nameof(TlsOptions.Enabled)}"))
        {
            return builder;
        }

        services.AddSingleton<ServerCertificates>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerCertificates>());
        services.AddSingleton(sp =>
        {
            var tls = sp.GetRequiredService<IOptions<TlsOptions>>().Value;
            return new MqttTlsEndpoint(System.Net.IPAddress.Parse(tls.MqttBindAddress), tls.MqttPort, () => sp.GetRequiredService<ServerCertificates>().Context);
        });
        services.AddOptions<KestrelServerOptions>().Configure<IServiceProvider>((kestrel, sp) =>
            // Called when an https:// address is bound, after the hosted services (and so the certificate) are up.
            kestrel.ConfigureHttpsDefaults(https =>
            {
                var certificates = sp.GetRequiredService<ServerCertificates>();
                https.ServerCertificate = certificates.Leaf;
                https.ServerCertificateChain = certificates.Chain;
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            }));
        return builder;
    }
}
