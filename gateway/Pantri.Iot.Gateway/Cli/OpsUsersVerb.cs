using System.CommandLine;
using System.Globalization;
using Pantri.Iot.Gateway.Entry.Http;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Cli;

/// <summary><c>ops-users add alice</c> (prints the password once), <c>ops-users revoke alice</c>, <c>ops-users list</c>.
/// An ops user connects with its own username and password and any client id starting <c>ops-</c>; it may subscribe to
/// <c>pantri/v1/ops/#</c> and publish nothing. Revoking one closes its connections.</summary>
public sealed class OpsUsersVerb : ICliVerb
{
    /// <inheritdoc/>
    public string Name => "ops-users";

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var verb = new Command(Name, "Ops users: their own MQTT credential to watch pantri/v1/ops/#");

        var name = new Argument<string>("name") { Description = "The MQTT username" };
        var add = new Command("add", "Add an ops user; prints its password (shown this once)") { name };
        add.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new AddOpsUser(parse.GetRequiredValue(name)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, u => [u.Password]).ConfigureAwait(false);
        }, ct));

        var revoked = new Argument<string>("name") { Description = "The MQTT username" };
        var url = new Option<string>("--url") { Description = "A running gateway's HTTP address, used when it holds the data directory (default http://localhost:5000)", DefaultValueFactory = _ => "http://localhost:5000" };
        var revoke = new Command("revoke", "Remove an ops user: its password stops working; through a running gateway its connections are closed at once") { revoked, url };
        revoke.SetAction((parse, ct) => CliRun.WithGatewayAsync(
            parse,
            async gateway =>
            {
                var result = await gateway.RunAsync(new RemoveOpsUser(parse.GetRequiredValue(revoked)), ct).ConfigureAwait(false);
                return await CliRun.ReportAsync(context, result, u => ["revoked " + u.UserId]).ConfigureAwait(false);
            },
            running => RevokeThroughGatewayAsync(context, running, parse.GetRequiredValue(url), parse.GetRequiredValue(revoked), ct),
            ct));

        var list = new Command("list", "List the ops users");
        list.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new ListOpsUsers(), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, users => users.Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.UserId}\t{u.CreatedAt:yyyy-MM-dd HH:mm}"))).ConfigureAwait(false);
        }, ct));

        verb.Add(add);
        verb.Add(revoke);
        verb.Add(list);
        return verb;
    }

    // The gateway holds the directory: sign a short-lived installation-admin token with the directory's key (only who
    // can read the directory can) and ask the gateway, which closes the user's connections as it commits.
    private static async Task<int> RevokeThroughGatewayAsync(CliContext context, DataDirectoryInUseException running, string address, string name, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync("--url must be an absolute http(s) address").ConfigureAwait(false);
            return GatewayCli.Refused;
        }

        if (UserTokens.ReadKey(running.DataDirectory) is not { } key)
        {
            await Console.Error.WriteLineAsync(running.Message).ConfigureAwait(false);
            return GatewayCli.Unavailable;
        }

        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/admin/ops-users/" + Uri.EscapeDataString(name));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminEndpoints.IssueToken(key, running.Issuer, TimeProvider.System.GetUtcNow()));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"refused ({(int)response.StatusCode}): {body}")).ConfigureAwait(false);
                return GatewayCli.Refused;
            }
        }
        catch (HttpRequestException unreachable)
        {
            await Console.Error.WriteLineAsync($"{running.Message} Its HTTP API at {url} did not answer ({unreachable.Message}); give its address with --url.").ConfigureAwait(false);
            return GatewayCli.Unavailable;
        }

        await context.Output.WriteLineAsync("revoked " + name).ConfigureAwait(false);
        return 0;
    }
}
