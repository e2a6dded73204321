using System.Net;
using LiteDB;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests.StorageLifecycle;

/// <summary>A damaged data directory is refused at start with a message naming the file, instead of a silent partial
/// start (a garbled log made LiteDB skip every commit after the damage: open orders gone, a second order placed) or a
/// stack trace; a deleted signing key is not silently replaced (every User_Auth ever issued would stop working).</summary>
[Category("Integration")]
public sealed class DamagedFilesTests
{
    private string _dir = null!;

    [SetUp]
    public void NewDirectory() => _dir = Path.Combine(Path.GetTempPath(), "pantri-damaged-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string KeyPath => Path.Combine(_dir, "jwt-signing.key");

    private string DatabasePath => Path.Combine(_dir, "pantri.db");

    private string LogPath => Path.Combine(_dir, "pantri-log.db");

    [Test]
    public async Task A_deleted_signing_key_with_data_in_the_database_refuses_start_naming_the_key_file()
    {
        await RunOnceAsync();
        File.Delete(KeyPath);

        var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: _dir));

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(KeyPath)));
        Assert.That(refused.Message, Does.Contain("Pantri:Auth:RegenerateSigningKey"));
        Assert.That(File.Exists(KeyPath), Is.False, "no new key was written behind the operator's back");
    }

    [Test]
    public async Task With_RegenerateSigningKey_a_new_key_is_made_and_tokens_signed_with_the_old_one_are_refused()
    {
        var oldToken = (await RunOnceAsync()).UserAuth;
        File.Delete(KeyPath);

        var gateway = await TestGateway.StartAsync(["--Pantri:Auth:RegenerateSigningKey=true"], dataDirectory: _dir);
        try
        {
            using var http = gateway.Http(oldToken);
            var response = await http.PostAsync("/v1/trigger", new StringContent("") { Headers = { { "Instruction_Ref", "123456789" } } });
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(File.Exists(KeyPath), Is.True);
        }
        finally
        {
            await gateway.StopAsync();
        }
    }

    [TestCase("")]
    [TestCase("not base64 at all")]
    [TestCase("c2hvcnQ=")]
    public async Task A_damaged_signing_key_refuses_start_naming_it(string content)
    {
        await RunOnceAsync();
        await File.WriteAllTextAsync(KeyPath, content);

        var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: _dir));

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(KeyPath)));
    }

    [Test]
    public async Task Garbage_in_the_second_half_of_the_log_refuses_start_naming_the_log_instead_of_forgetting_the_commits_after_it()
    {
        await RunOnceAsync(presses: 20);
        Overwrite(LogPath, from: new FileInfo(LogPath).Length / 2);

        var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: _dir));

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(LogPath)));
    }

    [Test]
    public async Task Garbage_in_the_data_file_refuses_start_naming_it()
    {
        await RunOnceAsync(presses: 20);
        using (var db = new LiteDatabase(new ConnectionString { Filename = DatabasePath }))
        {
            db.Checkpoint(); // move the commits from the log into the data file
        }

        Assert.That(new FileInfo(DatabasePath).Length, Is.GreaterThan(4 * 8192), "the data file holds pages beyond its header");
        Overwrite(DatabasePath, from: 2 * 8192);

        var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: _dir));

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(DatabasePath)));
    }

    [Test]
    public async Task A_garbage_header_refuses_start_naming_the_data_file()
    {
        await RunOnceAsync();
        Overwrite(DatabasePath, from: 0);

        var refused = Assert.ThrowsAsync<GatewayStartupException>(() => TestGateway.StartAsync(dataDirectory: _dir));

        Assert.That(refused!.Message, Does.Contain(Path.GetFullPath(DatabasePath)));
    }

    [Test]
    public async Task A_log_that_ends_inside_an_unfinished_transaction_is_what_a_crash_leaves_and_starts_with_every_commit()
    {
        var demo = await RunOnceAsync(presses: 3);
        AppendUnfinishedTransaction(LogPath);

        await using var gateway = await TestGateway.StartAsync(dataDirectory: _dir);
        await using var button = await gateway.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, "123456789");

        Assert.That(gateway.Demo.ButtonKey, Is.EqualTo(demo.ButtonKey), "the same household, not a new one");
        Assert.That(ack.Id, Is.EqualTo(AckIds.Conflict), "the order placed before the crash is still open");
    }

    [Test]
    public async Task A_gateway_process_refuses_a_garbled_log_with_one_clear_line_and_exit_code_2()
    {
        await RunOnceAsync(presses: 20);
        Overwrite(LogPath, from: 8192);

        var refused = Assert.ThrowsAsync<InvalidOperationException>(async () => (await GatewayProcess.StartAsync(_dir)).Dispose());

        Assert.That(refused!.Message, Does.Contain("The gateway exited with 2"));
        Assert.That(refused.Message, Does.Contain("The gateway cannot start: ").And.Contain(Path.GetFullPath(LogPath)));
        Assert.That(refused.Message, Does.Not.Contain("Hosting failed"), "no stack trace from the host");
    }

    // Runs a gateway on the directory once (demo household, some presses), then stops it, keeping the files.
    private async Task<DemoCredentials> RunOnceAsync(int presses = 1)
    {
        var gateway = await TestGateway.StartAsync(["--Pantri:CommandsPerSecond=1000", "--Pantri:CommandBurst=1000"], dataDirectory: _dir);
        try
        {
            await using var button = await gateway.ConnectButtonAsync();
            for (var i = 0; i < presses; i++)
            {
                await button.RequestAsync(DeviceTopicKind.Trigger, $$"""{"Instruction_Ref":123456789,"RequestId":"p{{i}}"}""");
            }

            return gateway.Demo;
        }
        finally
        {
            await gateway.StopAsync();
        }
    }

    private static void Overwrite(string path, long from)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        var garbage = new byte[file.Length - from];
        new Random(7).NextBytes(garbage);
        file.Position = from;
        file.Write(garbage);
    }

    // What a kill in the middle of a commit leaves: the pages of a transaction that never got its confirmation page.
    private static void AppendUnfinishedTransaction(string logPath)
    {
        const int PageSize = 8192;
        var log = File.ReadAllBytes(logPath);
        Assert.That(log.Length % PageSize, Is.Zero);
        var last = log.AsSpan(log.Length - PageSize).ToArray();
        var transaction = BitConverter.ToUInt32(last, 14) + 1;
        using var file = new FileStream(logPath, FileMode.Append);
        for (var i = 0; i < 2; i++)
        {
            BitConverter.TryWriteBytes(last.AsSpan(14), transaction);
            last[18] = 0; // not confirmed
            file.Write(last);
        }
    }
}
