using Microsoft.Extensions.Options;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>On first start with an empty data directory, creates the contract's demo household (an IoT button and
/// a smart jar) and writes <c>demo-household.json</c> with their keys and a <c>User_Auth</c> token, so a newcomer
/// can press the button within a minute. Never runs again once the household exists.</summary>
public sealed partial class DemoHousehold(
    CommandWriter writer,
    UserTokens tokens,
    IOptions<GatewayOptions> options,
    IOptions<DemoOptions> demo,
    ILogger<DemoHousehold> logger) : IHostedService
{
    /// <summary>The demo account.</summary>
    public const string AccountId = "demo";

    /// <summary>The demo household's user, its owner (the token in <c>demo-household.json</c> is theirs).</summary>
    public const string UserId = "demo-user";

    /// <summary>The demo button's instruction.</summary>
    public const long ButtonInstructionRef = 123456789;

    /// <summary>The demo jar's instruction.</summary>
    public const long JarInstructionRef = 987654321;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.CreateDemoHousehold || !demo.Value.Enabled)
        {
            return;
        }

        var path = Path.Combine(options.Value.DataDirectory, DemoHouseholdFile.FileName);
        var created = await writer.SubmitAsync(new CreateDemoHousehold(path, tokens), cancellationToken).ConfigureAwait(false);
        if (created)
        {
            LogCreated(logger, path);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Demo household created; credentials in {Path}")]
    private static partial void LogCreated(ILogger logger, string path);

    /// <summary>Creates the household through the ledger like any household's setup. The file is written before
    /// the batch commits: if the commit then fails, the household does not exist and the next start writes a new
    /// file; written after, a crash in between would lose the keys for good.</summary>
    private sealed class CreateDemoHousehold(string path, UserTokens tokens) : IWriterCommand<bool>
    {
        public bool Execute(UnitOfWork work)
        {
            var ledger = work.Ledger;
            if (work.Meta.DemoCreated || ledger.Devices.Count > 0 || ledger.Instructions.Count > 0 || ledger.HouseholdOf(AccountId) is not null)
            {
                return false;
            }

            Require(ledger.CreateHousehold(AccountId, "Demo household", work.Now));
            Require(ledger.AddUser(AccountId, UserId, UserRole.Owner, work.Now));
            var buttonKey = DeviceKeys.NewKey();
            var jarKey = DeviceKeys.NewKey();
            Require(ledger.CreateDevice(AccountId, "demo-button", DeviceKeys.Hash(buttonKey), work.Now));
            Require(ledger.CreateDevice(AccountId, "demo-jar", DeviceKeys.Hash(jarKey), work.Now));
            Require(ledger.CreateInstruction(AccountId, new InstructionSpec("Dishwasher tablets, 40 pack", "demo-retailer", 1, ["demo-button"], null), () => ButtonInstructionRef, work.Now));
            var cookies = new TrackingSpec(ReorderAt: 5, Unit: "count", UnitsPerPack: 12, Hysteresis: 2, Debounce: 1, Level: 12);
            Require(ledger.CreateInstruction(AccountId, new InstructionSpec("Oat cookies, 12 pack", "demo-retailer", 1, ["demo-jar"], cookies), () => JarInstructionRef, work.Now));
            WriteFile(new DemoHouseholdFile
            {
                AccountId = AccountId,
                UserAuth = tokens.Issue(UserId, AccountId),
                Devices =
                [
                    new DemoHouseholdDevice { DeviceId = "demo-button", DeviceKey = buttonKey, InstructionRef = ButtonInstructionRef },
                    new DemoHouseholdDevice { DeviceId = "demo-jar", DeviceKey = jarKey, InstructionRef = JarInstructionRef, Level = 12, ReorderAt = 5 },
                ],
            });

            // Last: the ledger's changes are undone if anything above throws, the installation values are not.
            work.Meta.DemoCreated = true;
            work.MetaChanged();
            return true;
        }

        public bool Unavailable(long commandRef) => false;

        // The demo goes through the same validation as any household; a refusal is a bug here, and the writer undoes
        // whatever the command had already created.
        private static void Require<T>(LedgerOutcome<T> outcome)
            where T : class
        {
            if (!outcome.IsSuccess)
            {
                throw new InvalidOperationException("The demo household was refused: " + outcome.Error);
            }
        }

        private void WriteFile(DemoHouseholdFile file)
        {
            var temporary = path + ".tmp";
            File.WriteAllBytes(temporary, file.ToJson());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, path, overwrite: true);
        }
    }
}
