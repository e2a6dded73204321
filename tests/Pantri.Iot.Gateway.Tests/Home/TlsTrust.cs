using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>Trusting the gateway's generated CA (and nothing else) the way a device does with <c>--cafile</c>: the
/// server's certificate must chain to that CA and carry the host name that was dialled.</summary>
internal static class TlsTrust
{
    public static X509Certificate2 LoadCa(string caPath) => X509CertificateLoader.LoadCertificateFromFile(caPath);

    public static bool Validate(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }

    public static HttpClient Https(X509Certificate2 ca, Uri baseAddress) =>
        new(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(ca, certificate, errors) },
        })
        { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

    public static MqttClientOptionsBuilder WithCa(this MqttClientOptionsBuilder builder, X509Certificate2 ca) =>
        builder.WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost")
            .WithCertificateValidationHandler(e => Validate(ca, e.Certificate, e.SslPolicyErrors)));
}
