using Pantri.Iot.Gateway;
using Pantri.Iot.Gateway.Cli;
using Serilog;

// A verb (households, token, devices, ops-users…) manages the installation and exits; anything else runs the gateway.
if (GatewayCli.IsVerb(args))
{
    return await GatewayCli.RunAsync(args).ConfigureAwait(false);
}

Log.Logger = new LoggerConfiguration().WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture).CreateBootstrapLogger();
try
{
    await GatewayHost.Build(args).RunAsync().ConfigureAwait(false);
    return 0;
}
catch (GatewayStartupException refused)
{
    // A refusal an operator can act on: its message names the file or directory; a stack trace would only bury it.
    Log.Fatal("The gateway cannot start: {Reason}", refused.Message);
    return 2;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    Log.Fatal(ex, "The gateway stopped unexpectedly");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync().ConfigureAwait(false);
}
