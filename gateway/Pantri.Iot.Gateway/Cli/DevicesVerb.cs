using System.CommandLine;
using System.Globalization;
using Pantri.Iot.Gateway.Setup;

namespace Pantri.Iot.Gateway.Cli;

/// <summary><c>devices list --household smith</c>, <c>devices add --household smith --name "Kitchen button"</c>,
/// <c>devices rotate-key …</c>, <c>devices revoke …</c> — the same calls as <c>/v1/devices</c>.</summary>
public sealed class DevicesVerb : ICliVerb
{
    /// <inheritdoc/>
    public string Name => "devices";

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var verb = new Command(Name, "List, add, re-key and revoke a household's devices");
        verb.Add(List(context));
        verb.Add(Add(context));
        verb.Add(OnDevice(context, "rotate-key", "Give a device a new key (printed once); the old key stops working", (a, d) => new RotateDeviceKey(a, d), k => [k.DeviceId + "\t" + k.DeviceKey]));
        verb.Add(OnDevice(context, "revoke", "Revoke (delete) a device; its orders stay", (a, d) => new RevokeDevice(a, d), v => ["revoked " + v.DeviceId]));
        return verb;
    }

    private static Option<string> HouseholdOption() => new("--household") { Description = "The household's id", Required = true };

    private static Command List(CliContext context)
    {
        var household = HouseholdOption();
        var list = new Command("list", "List the household's devices: id, name, created, paired instructions") { household };
        list.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var accountId = parse.GetRequiredValue(household);
            var exists = await gateway.RunAsync(new GetHousehold(accountId), ct).ConfigureAwait(false);
            if (exists.Error is not null)
            {
                return await CliRun.ReportAsync(context, exists, _ => []).ConfigureAwait(false);
            }

            var result = await gateway.RunAsync(new ListDevices(accountId), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, devices => devices.Select(d => string.Create(
                CultureInfo.InvariantCulture,
                $"{d.DeviceId}\t{d.Name}\t{d.CreatedAt:yyyy-MM-dd HH:mm}\tinstructions: {string.Join(',', d.InstructionRefs)}"))).ConfigureAwait(false);
        }, ct));
        return list;
    }

    private static Command Add(CliContext context)
    {
        var household = HouseholdOption();
        var name = new Option<string>("--name") { Description = "The device's name", Required = true };
        var add = new Command("add", "Create a device; prints its DeviceId and Device_Key (shown this once)") { household, name };
        add.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(new CreateDevice(parse.GetRequiredValue(household), parse.GetRequiredValue(name)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, d => [d.DeviceId + "\t" + d.DeviceKey]).ConfigureAwait(false);
        }, ct));
        return add;
    }

    private static Command OnDevice<T>(CliContext context, string name, string description, Func<string, string, SetupCommand<T>> command, Func<T, IEnumerable<string>> print)
    {
        var household = HouseholdOption();
        var device = new Argument<string>("device") { Description = "The DeviceId" };
        var verb = new Command(name, description) { household, device };
        verb.SetAction((parse, ct) => CliRun.WithGatewayAsync(parse, async gateway =>
        {
            var result = await gateway.RunAsync(command(parse.GetRequiredValue(household), parse.GetRequiredValue(device)), ct).ConfigureAwait(false);
            return await CliRun.ReportAsync(context, result, print).ConfigureAwait(false);
        }, ct));
        return verb;
    }
}
