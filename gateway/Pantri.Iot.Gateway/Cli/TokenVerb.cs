using System.CommandLine;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Cli;

/// <summary><c>token --household smith --user alice [--days 30] [--role member]</c>: prints a <c>User_Auth</c> token
/// signed with the installation's key. A user not yet in the household is added (its owner when it has none yet, else a
/// member, or <c>--role</c>). For the demo household it also rewrites <c>demo-household.json</c>'s token, so an expired
/// demo token is reissued with the same command.</summary>
public sealed class TokenVerb : ICliVerb
{
    /// <inheritdoc/>
    public string Name => "token";

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var household = new Option<string>("--household") { Description = "The household's id", Required = true };
        var user = new Option<string>("--user") { Description = "The user (the token's sub)", Required = true };
        var days = new Option<int?>("--days") { Description = "Lifetime in days (default Pantri:Auth:TokenLifetime, 30 days; at most Pantri:Auth:MaxTokenLifetime)" };
        var role = new Option<string?>("--role") { Description = "owner or member, for a user that does not exist yet" };
        role.AcceptOnlyFromAmong("owner", "member");
        var verb = new Command(Name, "Mint a User_Auth token for a user of a household (embedded issuer)") { household, user, days, role };
        verb.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var accountId = parse.GetRequiredValue(household);
            var userId = parse.GetRequiredValue(user);
            if (parse.GetValue(days) is <= 0)
            {
                await Console.Error.WriteLineAsync("--days must be at least 1").ConfigureAwait(false);
                return GatewayCli.Refused;
            }

            var exists = await gateway.RunAsync(new GetHousehold(accountId), ct).ConfigureAwait(false);
            if (exists.Error is not null)
            {
                return await CliRun.ReportAsync(context, exists, _ => []).ConfigureAwait(false);
            }

            UserRole? chosen = parse.GetValue(role) switch { "owner" => UserRole.Owner, "member" => UserRole.Member, _ => null };
            var ensured = await gateway.RunAsync(new EnsureUser(accountId, userId, chosen), ct).ConfigureAwait(false);
            if (ensured.Error is not null)
            {
                return await CliRun.ReportAsync(context, ensured, _ => []).ConfigureAwait(false);
            }

            var tokens = gateway.Services.GetRequiredService<UserTokens>();
            var token = parse.GetValue(days) is { } d ? tokens.Issue(userId, accountId, TimeSpan.FromDays(d)) : tokens.Issue(userId, accountId);
            if (accountId == DemoHousehold.AccountId)
            {
                UpdateDemoFile(Path.Combine(gateway.DataDirectory, DemoHouseholdFile.FileName), token);
            }

            await context.Output.WriteLineAsync(token).ConfigureAwait(false);
            return 0;
        }, ct));
        return verb;
    }

    // The demo file keeps its device keys; only its token is replaced, through a temporary file so a crash leaves one whole file.
    private static void UpdateDemoFile(string path, string token)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var file = DemoHouseholdFile.Read(path) with { UserAuth = token };
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, file.ToJson());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
