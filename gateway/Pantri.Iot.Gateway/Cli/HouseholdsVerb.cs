using System.CommandLine;
using System.Globalization;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Cli;

/// <summary><c>households add "Smith" [--id smith] [--owner alice]</c>, <c>households list</c>,
/// <c>households rename smith "The Smiths"</c>, <c>households delete smith</c>.</summary>
public sealed class HouseholdsVerb : ICliVerb
{
    /// <inheritdoc/>
    public string Name => "households";

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var verb = new Command(Name, "Create, list, rename and delete households");

        var name = new Argument<string>("name") { Description = "The household's display name" };
        var id = new Option<string?>("--id") { Description = "Its id, as tokens and the API name it (default: made from the name, e.g. \"The Smiths\" → the-smiths)" };
        var owner = new Option<string?>("--owner") { Description = "Add this user as its owner" };
        var add = new Command("add", "Create a household; prints its id") { name, id, owner };
        add.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var displayName = parse.GetRequiredValue(name);
            var accountId = parse.GetValue(id) ?? Identifiers.HouseholdIdFrom(displayName) ?? string.Empty;
            var result = await gateway.RunAsync(new CreateHousehold(accountId, displayName, parse.GetValue(owner)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, h => [h.AccountId]).ConfigureAwait(false);
        }, ct));

        var list = new Command("list", "List the households: id, name, users, devices, instructions");
        list.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new ListHouseholds(), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, households => households.Select(h => string.Create(
                CultureInfo.InvariantCulture,
                $"{h.AccountId}\t{h.Name}\tusers: {string.Join(',', h.Users.Select(u => u.UserId + "(" + u.Role.ToLowerInvariant() + ")"))}\tdevices: {h.Devices}\tinstructions: {h.Instructions}"))).ConfigureAwait(false);
        }, ct));

        var household = new Argument<string>("household") { Description = "The household's id" };
        var newName = new Argument<string>("name") { Description = "The new display name" };
        var rename = new Command("rename", "Rename a household") { household, newName };
        rename.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new RenameHousehold(parse.GetRequiredValue(household), parse.GetRequiredValue(newName)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, h => [h.AccountId + "\t" + h.Name]).ConfigureAwait(false);
        }, ct));

        var deleted = new Argument<string>("household") { Description = "The household's id" };
        var delete = new Command("delete", "Delete a household: its devices are revoked, its instructions and users removed, its orders kept") { deleted };
        delete.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new DeleteHousehold(parse.GetRequiredValue(deleted)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, h => ["deleted " + h.AccountId]).ConfigureAwait(false);
        }, ct));

        verb.Add(add);
        verb.Add(list);
        verb.Add(rename);
        verb.Add(delete);
        return verb;
    }
}
