using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Tls;

/// <summary>The gateway's TLS server certificate, shared by MQTT over TLS and Kestrel's HTTPS (and so WSS): loaded from
/// the PEM files of <see cref="TlsOptions"/>, or generated in <c>{DataDirectory}/tls/</c> — a private CA
/// (<c>ca.pem</c>, the file devices trust) and a server certificate it signs. Registered (as a hosted service, right
/// after the data directory lock, so that it is loaded under the lock and before anything listens) only when TLS is on;
/// a certificate that cannot be read refuses the start, naming the file.</summary>
/// <remarks>Keys are ECDSA P-256: libmosquitto/OpenSSL, mbedTLS on an ESP32, browsers and .NET all accept it, and it
/// keeps the handshake cheap on a Pi. The server certificate lives 397 days (what browsers accept) and is re-issued from
/// the same CA at a start within 30 days of its end, so devices that trust the CA never need a new file.</remarks>
public sealed partial class ServerCertificates : IHostedService
{
    /// <summary>Folder under the data directory that holds the generated certificates.</summary>
    public const string FolderName = "tls";

    /// <summary>The generated CA certificate devices trust (<c>mosquitto_rr --cafile</c>).</summary>
    public const string CaFileName = "ca.pem";

    private const string CaKeyFileName = "ca-key.pem";
    private const string ServerFileName = "server.pem";
    private const string ServerKeyFileName = "server-key.pem";
    private static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(397);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(20 * 365);

    private readonly TimeProvider _time;
    private readonly ILogger<ServerCertificates> _logger;

    /// <summary>Loads (or generates) the certificate.</summary>
    /// <exception cref="GatewayStartupException">A configured file is missing or not a PEM certificate/key.</exception>
    public ServerCertificates(IOptions<TlsOptions> options, DataDirectoryLock dataDirectory, TimeProvider time, ILogger<ServerCertificates> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        _time = time;
        _logger = logger;
        var o = options.Value;
        if (!string.IsNullOrEmpty(o.CertificatePath))
        {
            (Leaf, Chain) = LoadConfigured(o.CertificatePath, o.KeyPath!);
            CaPath = null;
            LogConfigured(_logger, Path.GetFullPath(o.CertificatePath), Leaf.Subject, Day(Leaf.NotAfter), Fingerprint(Leaf));
        }
        else
        {
            var folder = Path.Combine(dataDirectory.Directory, FolderName);
            (Leaf, Chain) = LoadOrGenerate(folder, Names(o.HostNames));
            CaPath = Path.Combine(folder, CaFileName);
            LogCa(_logger, CaPath, Fingerprint(Chain[0]), Day(Leaf.NotAfter));
        }

        Context = SslStreamCertificateContext.Create(Leaf, Chain, offline: true);
    }

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>The certificates sent after it (the intermediates of a configured chain; the generated CA).</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The certificate as <see cref="SslStream"/> serves it.</summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>Full path of the generated CA file; null when the certificate is configured.</summary>
    public string? CaPath { get; }

    /// <summary>SHA-256 of a certificate, as <c>openssl x509 -noout -fingerprint -sha256</c> prints it.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return string.Join(':', certificate.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>True when <paramref name="name"/> is an IP address or a DNS host name.</summary>
    public static bool IsValidName(string name) =>
        !string.IsNullOrWhiteSpace(name) && (IPAddress.TryParse(name, out _) || Uri.CheckHostName(name) == UriHostNameType.Dns);

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static (X509Certificate2 Leaf, X509Certificate2Collection Chain) LoadConfigured(string certificatePath, string keyPath)
    {
        try
        {
            var leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certificatePath);
            var chain = new X509Certificate2Collection();
            foreach (var certificate in all.Skip(1))
            {
                chain.Add(certificate);
            }

            return (leaf, chain);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new GatewayStartupException(
                $"The TLS certificate {Path.GetFullPath(certificatePath)} with key {Path.GetFullPath(keyPath)} cannot be loaded ({ex.Message}). "
                + "Pantri:Tls:CertificatePath must name a PEM certificate (optionally followed by its intermediates) and Pantri:Tls:KeyPath its unencrypted PEM private key.", ex);
        }
    }

    /// <summary>The names the generated server certificate carries.</summary>
    private static List<string> Names(IEnumerable<string> configured)
    {
        var host = Dns.GetHostName();
        var names = new List<string> { "localhost", "127.0.0.1", "::1" };
        if (IsValidName(host))
        {
            names.Add(host);
            if (!host.Contains('.', StringComparison.Ordinal))
            {
                names.Add(host + ".local");
            }
        }

        names.AddRange(configured);
        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private (X509Certificate2 Leaf, X509Certificate2Collection Chain) LoadOrGenerate(string folder, List<string> names)
    {
        var caPath = Path.Combine(folder, CaFileName);
        var caKeyPath = Path.Combine(folder, CaKeyFileName);
        var serverPath = Path.Combine(folder, ServerFileName);
        var serverKeyPath = Path.Combine(folder, ServerKeyFileName);
        try
        {
            Directory.CreateDirectory(folder);

            X509Certificate2 ca;
            if (File.Exists(caPath) && File.Exists(caKeyPath))
            {
                ca = X509Certificate2.CreateFromPemFile(caPath, caKeyPath);
            }
            else
            {
                ca = CreateCa();
                // The key first: a crash in between leaves a key without a CA (generated again), never a CA without its key.
                WriteNew(caKeyPath, ExportKey(ca), secret: true);
                WriteNew(caPath, ca.ExportCertificatePem(), secret: false);
                LogCaGenerated(_logger, caPath);
            }

            var now = _time.GetUtcNow();
            if (File.Exists(serverPath) && File.Exists(serverKeyPath))
            {
                var existing = X509Certificate2.CreateFromPemFile(serverPath, serverKeyPath);
                if (IsUsable(existing, ca, names, now))
                {
                    return (existing, [ca]);
                }

                existing.Dispose();
            }

            var server = Issue(ca, names, now);
            WriteReplacing(serverKeyPath, ExportKey(server), secret: true);
            WriteReplacing(serverPath, server.ExportCertificatePem(), secret: false);
            LogServerIssued(_logger, serverPath, string.Join(", ", names), Day(server.NotAfter));
            return (server, [ca]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new GatewayStartupException(
                $"The generated TLS certificates in {folder} cannot be read or written ({ex.Message}). "
                + "Repair the folder's permissions, or move it away to generate a new CA (devices must then trust the new ca.pem).", ex);
        }
    }

    private X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Pantri gateway CA {Dns.GetHostName()}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = _time.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.Add(CaLifetime));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, List<string> names, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Dns.GetHostName()}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var notAfter = now.Add(ServerLifetime) < ca.NotAfter ? now.Add(ServerLifetime) : new DateTimeOffset(ca.NotAfter);
        using var issued = request.Create(ca, now.AddDays(-1), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The existing server certificate is kept when the CA signed it, it has more than 30 days left and it
    /// carries every name asked for.</summary>
    private static bool IsUsable(X509Certificate2 server, X509Certificate2 ca, List<string> names, DateTimeOffset now)
    {
        if (server.NotAfter.ToUniversalTime() - now.UtcDateTime < RenewBefore)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        if (!chain.Build(server))
        {
            return false;
        }

        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var present = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return names.All(n => present.Contains(IPAddress.TryParse(n, out var a) ? a.ToString() : n));
    }

    private static string Day(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static string ExportKey(X509Certificate2 certificate) =>
        certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem();

    /// <summary>Writes a file that must not exist yet (a second gateway racing on the directory fails here rather than
    /// replace a CA devices may already trust). Keys are readable by the owner only; certificates are public.</summary>
    private static void WriteNew(string path, string pem, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var file = new FileStream(path, options);
        using var writer = new StreamWriter(file);
        writer.Write(pem);
        writer.Flush();
        file.Flush(flushToDisk: true);
    }

    /// <summary>Replaces a file whole: written beside it, flushed, then renamed over it.</summary>
    private static void WriteReplacing(string path, string pem, bool secret)
    {
        var temporary = path + ".new";
        File.Delete(temporary);
        WriteNew(temporary, pem, secret);
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "TLS: devices trust the CA {CaPath} (SHA-256 fingerprint {Fingerprint}); the server certificate it signed is valid until {NotAfter}")]
    private static partial void LogCa(ILogger logger, string caPath, string fingerprint, string notAfter);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "TLS: generated a new private CA in {CaPath}; copy it to every device (and keep ca-key.pem private)")]
    private static partial void LogCaGenerated(ILogger logger, string caPath);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "TLS: issued the server certificate {Path} for {Names}, valid until {NotAfter}")]
    private static partial void LogServerIssued(ILogger logger, string path, string names, string notAfter);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "TLS: certificate {Path} for {Subject}, valid until {NotAfter}, SHA-256 fingerprint {Fingerprint}")]
    private static partial void LogConfigured(ILogger logger, string path, string subject, string notAfter, string fingerprint);
}
