using System.CommandLine;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Pantri.Iot.Gateway.Entry.Http;

namespace Pantri.Iot.Gateway.Cli;

/// <summary><c>backup &lt;path&gt;</c>: asks a running gateway for an online backup (<c>POST /v1/admin/backup</c>
/// with the admin key) and writes the zip archive to <c>path</c>. The gateway holds its data directory locked, so the
/// copy is made by the gateway itself, between two commits; this verb only fetches it.</summary>
public sealed class BackupVerb : ICliVerb
{
    /// <inheritdoc/>
    public string Name => "backup";

    /// <inheritdoc/>
    public Command Build(CliContext context) => Create();

    /// <summary>The environment variable the admin key is read from when no <c>--admin-key-file</c> is given (the same
    /// one the gateway reads its key from).</summary>
    public const string KeyVariable = "Pantri__Admin__Key";

    /// <summary>Creates the verb.</summary>
    public static Command Create()
    {
        var path = new Argument<FileInfo>("path") { Description = "Where to write the backup archive (.zip); must not exist yet." };
        var url = new Option<string>("--url")
        {
            Description = "The gateway's HTTP base address.",
            DefaultValueFactory = _ => "http://127.0.0.1:5000",
        };
        var keyFile = new Option<FileInfo?>("--admin-key-file") { Description = $"A file holding the admin key (Pantri:Admin:Key); default: the {KeyVariable} environment variable." };
        var caFile = new Option<FileInfo?>("--cacert") { Description = "A PEM CA to trust for an https:// address (the gateway's generated tls/ca.pem)." };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait for the archive.",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
        };
        var command = new Command("backup", "Writes an online backup of a running gateway's data directory to a zip archive.") { path, url, keyFile, caFile, timeout };
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(path)!, result.GetValue(url)!, result.GetValue(keyFile), result.GetValue(caFile), result.GetValue(timeout),
            result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo path, string address, FileInfo? keyFile, FileInfo? caFile, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"--url {address} is not an absolute http(s) address.").ConfigureAwait(false);
            return 2;
        }

        var key = keyFile is null ? Environment.GetEnvironmentVariable(KeyVariable) : (await File.ReadAllTextAsync(keyFile.FullName, cancellationToken).ConfigureAwait(false)).Trim();
        if (string.IsNullOrEmpty(key))
        {
            await error.WriteLineAsync($"No admin key: give --admin-key-file or set {KeyVariable}.").ConfigureAwait(false);
            return 2;
        }

        if (path.Exists)
        {
            await error.WriteLineAsync($"{path.FullName} exists; a backup never overwrites a file.").ConfigureAwait(false);
            return 2;
        }

        using var ca = caFile is null ? null : X509CertificateLoader.LoadCertificateFromFile(caFile.FullName);
        using var handler = new SocketsHttpHandler();
        if (ca is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(ca, certificate, errors) };
        }

        using var http = new HttpClient(handler) { BaseAddress = url, Timeout = timeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, AdminEndpoints.BackupPath);
        request.Headers.Add(AdminEndpoints.KeyHeader, key);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync($"The gateway answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}").ConfigureAwait(false);
                return 1;
            }

            // Written beside the target and renamed when complete: a cut-off download never looks like a backup.
            var partial = path.FullName + ".partial";
            // The archive holds the signing key and the CA's key: readable by its owner only, like the data directory.
            var mode = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                mode.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var file = new FileStream(partial, mode);
            await using (file.ConfigureAwait(false))
            {
                await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path.FullName);
            await output.WriteLineAsync($"Backup written to {path.FullName} ({new FileInfo(path.FullName).Length} bytes). Restore: stop the gateway, unzip it into an empty data directory, start the gateway on that directory.").ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            await error.WriteLineAsync($"Backup failed: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static bool TrustedBy(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }
}
