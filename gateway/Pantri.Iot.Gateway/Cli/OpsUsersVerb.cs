using System.CommandLine;
using System.Globalization;
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
        var revoke = new Command("revoke", "Remove an ops user: its password stops working") { revoked };
        revoke.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new RemoveOpsUser(parse.GetRequiredValue(revoked)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, u => ["revoked " + u.UserId]).ConfigureAwait(false);
        }, ct));

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
}
