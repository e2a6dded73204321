using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Processing;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Demo;

/// <summary>On first start with an empty data directory, creates the contract's demo household (an IoT button and
/// a smart jar) and writes <c>demo-household.json</c> with their keys and a <c>User_Auth</c> token, so a newcomer
/// can press the button within a minute. Never runs again once the household exists.</summary>
public sealed partial class DemoHousehold(
    CommandProcessor processor,
    UserTokens tokens,
    IOptions<GatewayOptions> options,
    ILogger<DemoHousehold> logger) : IHostedService
{
    /// <summary>The demo account.</summary>
    public const string AccountId = "demo";

    /// <summary>The demo button's instruction.</summary>
    public const long ButtonInstructionRef = 123456789;

    /// <summary>The demo jar's instruction.</summary>
    public const long JarInstructionRef = 987654321;

    /// <summary>Name of the file written to the data directory.</summary>
    public const string FileName = "demo-household.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.CreateDemoHousehold)
        {
            return;
        }

        var path = await processor.RunAsync(Create, _ => null, cancellationToken).ConfigureAwait(false);
        if (path is not null)
        {
            LogCreated(logger, path);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Runs on the writer. The file is written before the batch commits: if the commit then fails, the household does
    // not exist and the next start writes a new file; written after, a crash in between would lose the keys for good.
    private string? Create(WorkContext context)
    {
        if (context.Meta.DemoCreated || context.Ledger.Devices.Count > 0 || context.Ledger.Instructions.Count > 0)
        {
            return null;
        }

        var buttonKey = DeviceKeys.NewKey();
        var jarKey = DeviceKeys.NewKey();
        var devices = new[]
        {
            new Device { DeviceId = "demo-button", AccountId = AccountId, KeyHash = DeviceKeys.Hash(buttonKey), CreatedAt = context.Now },
            new Device { DeviceId = "demo-jar", AccountId = AccountId, KeyHash = DeviceKeys.Hash(jarKey), CreatedAt = context.Now },
        };
        var instructions = new[]
        {
            new Instruction
            {
                Ref = ButtonInstructionRef, AccountId = AccountId, Product = "Dishwasher tablets, 40 pack", Retailer = "demo-retailer", Quantity = 1,
                DeviceIds = ["demo-button"],
            },
            new Instruction
            {
                Ref = JarInstructionRef, AccountId = AccountId, Product = "Oat cookies, 12 pack", Retailer = "demo-retailer", Quantity = 1,
                DeviceIds = ["demo-jar"],
                Tracking = new Tracking { Level = 12, ReorderAt = 5, Unit = "count", UnitsPerPack = 12, Hysteresis = 2, Debounce = 1, Armed = true, UpdatedAt = context.Now },
            },
        };
        foreach (var device in devices)
        {
            context.Ledger.PutDevice(device);
            context.Batch.Devices[device.DeviceId] = device;
            context.DeviceChanges.Add(device);
        }

        foreach (var instruction in instructions)
        {
            context.Ledger.PutInstruction(instruction);
            context.Batch.Instructions[instruction.Ref] = instruction;
        }

        context.Meta.DemoCreated = true;
        context.Batch.Meta = context.Meta;
        return WriteFile(buttonKey, jarKey);
    }

    private string WriteFile(string buttonKey, string jarKey)
    {
        var file = new DemoFile(
            AccountId,
            tokens.Issue("demo-user", AccountId),
            [
                new DemoDevice("demo-button", buttonKey, ButtonInstructionRef, null, null),
                new DemoDevice("demo-jar", jarKey, JarInstructionRef, 12, 5),
            ]);
        var path = Path.Combine(options.Value.DataDirectory, FileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(file, JsonOptions));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo household created; credentials in {Path}")]
    private static partial void LogCreated(ILogger logger, string path);

    private sealed record DemoFile(
        string AccountId,
        [property: JsonPropertyName("User_Auth")] string UserAuth,
        IReadOnlyList<DemoDevice> Devices);

    private sealed record DemoDevice(
        string DeviceId,
        [property: JsonPropertyName("Device_Key")] string DeviceKey,
        [property: JsonPropertyName("Instruction_Ref")] long InstructionRef,
        double? Level,
        double? ReorderAt);
}
