using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Cli;

/// <summary>The gateway's writer on its data directory, without broker or HTTP: a verb's changes go through the same
/// setup commands, ledger validation, journal and LiteDB commit as an HTTP call. It takes the data directory's lock
/// first, so it refuses to run while a gateway holds the directory (two writers on one LiteDB file would corrupt it):
/// stop the gateway, or use the HTTP API. Its log goes to standard error, errors only, so that standard output holds
/// only what the verb prints (a token can be captured with <c>$(…)</c>).</summary>
public sealed class OfflineGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CommandWriter _writer;

    private OfflineGateway(WebApplication app, CommandWriter writer)
    {
        _app = app;
        _writer = writer;
    }

    /// <summary>The services (setup, tokens, options).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The data directory in use, as a full path.</summary>
    public string DataDirectory => Path.GetFullPath(Services.GetRequiredService<IOptions<GatewayOptions>>().Value.DataDirectory);

    /// <summary>Opens the data directory (creating it when new) and starts the writer.</summary>
    /// <exception cref="GatewayStartupException">The directory is held by a running gateway, or unreadable.</exception>
    public static async Task<OfflineGateway> OpenAsync(string? dataDirectory, CancellationToken cancellationToken)
    {
        List<string> args = ["--Serilog:MinimumLevel:Default=Error", "--Serilog:WriteTo:0:Name=Console", "--Serilog:WriteTo:0:Args:standardErrorFromLevel=Verbose"];
        if (dataDirectory is not null)
        {
            args.Add("--Pantri:DataDirectory=" + dataDirectory);
        }

        var app = GatewayHost.Build([.. args]);
        try
        {
            // The lock first (it throws when a gateway runs), then the writer, which loads the store.
            try
            {
                app.Services.GetRequiredService<DataDirectoryLock>();
            }
            catch (GatewayStartupException held)
            {
                var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
                throw new DataDirectoryInUseException(held.Message, Path.GetFullPath(options.DataDirectory), app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Issuer, held);
            }

            // Before any data is written: a new installation gets its signing key now, as at the gateway's first start
            // (later, with data in the store, a missing key is refused rather than silently made).
            app.Services.GetRequiredService<UserTokens>();
            var writer = app.Services.GetRequiredService<CommandWriter>();
            await writer.StartAsync(cancellationToken).ConfigureAwait(false);
            return new OfflineGateway(app, writer);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a setup command on the writer.</summary>
    public Task<SetupResult<T>> RunAsync<T>(SetupCommand<T> command, CancellationToken cancellationToken) =>
        Services.GetRequiredService<SetupService>().RunAsync(command with { By = "cli" }, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The data directory is held by a running gateway (or cannot be locked).</summary>
/// <param name="message">Why, naming the directory.</param>
/// <param name="dataDirectory">The directory, as a full path.</param>
/// <param name="issuer">The installation's token issuer.</param>
/// <param name="inner">The lock's refusal.</param>
public sealed class DataDirectoryInUseException(string message, string dataDirectory, string issuer, Exception inner) : Exception(message, inner)
{
    /// <summary>The directory, as a full path.</summary>
    public string DataDirectory { get; } = dataDirectory;

    /// <summary>The installation's token issuer (for an installation-admin token).</summary>
    public string Issuer { get; } = issuer;
}
