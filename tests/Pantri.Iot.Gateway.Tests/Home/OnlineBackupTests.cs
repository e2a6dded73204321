using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Cli;
using Pantri.Iot.Gateway.Entry.Http;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>Online backups: taken through the admin endpoint by the <c>backup</c> verb while devices press and report,
/// restored by unzipping into a new data directory.</summary>
[Category("Integration")]
public sealed class OnlineBackupTests
{
    private const string AdminKey = "admin-key-for-the-backup-tests-0123456789";

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_backup_taken_under_load_restores_into_a_new_gateway_with_every_order_acknowledged_before_it_began_and_none_acknowledged_after_it()
    {
        var work = Directory.CreateTempSubdirectory("pantri-backup-test-").FullName;
        try
        {
            await using var gateway = await TestGateway.StartAsync([$"--Pantri:Admin:Key={AdminKey}", "--Pantri:CommandsPerSecond=100000", "--Pantri:CommandBurst=100000"]);
            var instructions = await CreateButtonInstructionsAsync(gateway, 150);
            await using var button = await gateway.ConnectButtonAsync();
            await using var jar = await gateway.ConnectJarAsync();
            var acked = new ConcurrentQueue<(long OrderRef, long At)>();
            using var stop = new CancellationTokenSource();
            var presses = Task.Run(async () =>
            {
                foreach (var instruction in instructions)
                {
                    var ack = await button.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref": {{instruction}}}""");
                    Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), ack.Status);
                    acked.Enqueue((ack.OrderRef!.Value, Stopwatch.GetTimestamp()));
                    await Task.Delay(10);
                }
            });
            var reports = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var ack = await jar.RequestAsync(DeviceTopicKind.Level, $$"""{"Instruction_Ref": {{DemoCredentials.JarRef}}, "Level": {{50 + (i % 50)}}}""");
                    Assert.That(ack.Id, Is.EqualTo(AckIds.Recorded), ack.Status);
                }
            });
            for (var i = 0; i < 200 && acked.Count < 40; i++)
            {
                await Task.Delay(25);
            }

            var keyFile = Path.Combine(work, "admin.key");
            await File.WriteAllTextAsync(keyFile, AdminKey);
            var archive = Path.Combine(work, "backup.zip");
            var began = Stopwatch.GetTimestamp();
            var output = new StringWriter();
            var exit = await BackupVerb.Create().Parse([archive, "--url", gateway.HttpBase.ToString(), "--admin-key-file", keyFile])
                .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = output });
            var ended = Stopwatch.GetTimestamp();
            await presses;
            await stop.CancelAsync();
            await reports;

            Assert.That(exit, Is.EqualTo(0), output.ToString());
            Assert.That(File.GetUnixFileMode(archive) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead), Is.EqualTo(UnixFileMode.None), "the archive holds keys: owner-only");
            var before = acked.Where(a => a.At < began).Select(a => a.OrderRef).ToList();
            var after = acked.Where(a => a.At > ended).Select(a => a.OrderRef).ToList();
            Assert.That(before, Has.Count.GreaterThanOrEqualTo(40), "orders acknowledged before the backup began");
            Assert.That(after, Is.Not.Empty, "presses went on after the backup");

            // Restore: unzip into an empty data directory and start a gateway on it.
            var restoredDirectory = Path.Combine(work, "restored");
            ZipFile.ExtractToDirectory(archive, restoredDirectory);
            // The store's journal runs ahead of the copy (commands acknowledged while the rest was copied): beside the
            // copy it would be replayed into it.
            Assert.That(Directory.GetFiles(restoredDirectory).Select(Path.GetFileName), Has.None.Contains("-journal-").And.None.EqualTo("idempotency-window.bin"));
            await using var restored = await TestGateway.StartAsync(dataDirectory: restoredDirectory);
            var orders = restored.Store.FindOrders("demo", 10_000).Select(o => o.Ref).ToHashSet();

            Assert.That(before.Where(r => !orders.Contains(r)), Is.Empty, "every order acknowledged before the backup began is restored");
            Assert.That(after.Where(orders.Contains), Is.Empty, "no order acknowledged after the backup returned is in it");
            await using var restoredButton = await restored.ConnectButtonAsync();
            var again = await restoredButton.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref": {{instructions[0]}}}""");
            Assert.That(again.Id, Is.EqualTo(AckIds.Conflict), "the restored order is open, and the device key still works");
            Assert.That(again.OrderRef, Is.EqualTo(acked.First().OrderRef));
            using var app = restored.Http(restored.Demo.UserAuth);
            Assert.That((await app.GetAsync("/v1/orders")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "User_Auth tokens still validate (the signing key was backed up)");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public async Task The_backup_endpoint_answers_401_without_the_admin_key_and_404_when_no_key_is_configured()
    {
        await using var configured = await TestGateway.StartAsync([$"--Pantri:Admin:Key={AdminKey}"]);
        await using var unconfigured = await TestGateway.StartAsync();
        using var http = configured.Http();
        using var wrong = new HttpRequestMessage(HttpMethod.Post, AdminEndpoints.BackupPath);
        wrong.Headers.Add(AdminEndpoints.KeyHeader, AdminKey + "x");
        using var userToken = configured.Http(configured.Demo.UserAuth);

        Assert.That((await http.PostAsync(AdminEndpoints.BackupPath, null)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await http.SendAsync(wrong)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await userToken.PostAsync(AdminEndpoints.BackupPath, null)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a household's token is not the admin key");
        Assert.That((await unconfigured.Http().PostAsync(AdminEndpoints.BackupPath, null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(Directory.GetFileSystemEntries(configured.DataDirectory).Where(e => Path.GetFileName(e).StartsWith(Backup.OnlineBackup.StagingPrefix, StringComparison.Ordinal)), Is.Empty);
    }

    private static async Task<List<long>> CreateButtonInstructionsAsync(TestGateway gateway, int count)
    {
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var refs = new List<long>();
        for (var i = 0; i < count; i++)
        {
            using var response = await http.PostAsJsonAsync("/v1/instructions", new { Product = $"Item {i.ToString(CultureInfo.InvariantCulture)}", Retailer = "demo-retailer", Quantity = 1, DeviceIds = new[] { DemoCredentials.Button } });
            Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
            refs.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty(FieldNames.InstructionRef).GetInt64());
        }

        return refs;
    }
}
