using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests;

/// <summary>The check every gateway test relies on: an error the gateway logs fails the test unless the test declared
/// it expected. Errors are logged through the gateway's own logging pipeline, at the level the tests run it with.</summary>
[Category("Integration")]
public sealed class LoggedErrorsTests
{
    [Test]
    public async Task An_error_the_gateway_logs_fails_the_test_with_its_message_and_exception()
    {
        await using var gateway = await TestGateway.StartAsync();
        var logger = gateway.Services.GetRequiredService<ILogger<LoggedErrorsTests>>();

        logger.LogError(new IOException("the disk caught fire"), "Writing {File} failed", "pantri.db");
        var failure = Assert.Throws<AssertionException>(gateway.ThrowIfLoggedErrors);

        Assert.That(failure.Message, Does.Contain("Writing \"pantri.db\" failed").And.Contain("the disk caught fire"));
        Assert.DoesNotThrow(gateway.ThrowIfLoggedErrors, "a reported error is reported once");
    }

    [Test]
    public async Task Stopping_the_gateway_fails_the_test_when_an_unexpected_error_was_logged()
    {
        await using var gateway = await TestGateway.StartAsync();
        gateway.Services.GetRequiredService<ILogger<LoggedErrorsTests>>().LogCritical("The writer thread died");

        var failure = Assert.ThrowsAsync<AssertionException>(gateway.StopAsync);

        Assert.That(failure.Message, Does.Contain("The writer thread died"));
    }

    [Test]
    public async Task Declared_errors_and_warnings_do_not_fail_the_test()
    {
        await using var gateway = await TestGateway.StartAsync();
        var logger = gateway.Services.GetRequiredService<ILogger<LoggedErrorsTests>>();
        gateway.ExpectLoggedErrors("disk unavailable");

        logger.LogError(new IOException("disk unavailable"), "Commit failed");
        logger.LogError("Commit failed again: disk unavailable");
        logger.LogWarning("Only a warning");

        Assert.DoesNotThrow(gateway.ThrowIfLoggedErrors);
    }

    [Test]
    public async Task An_undeclared_error_still_fails_the_test_next_to_declared_ones()
    {
        await using var gateway = await TestGateway.StartAsync();
        var logger = gateway.Services.GetRequiredService<ILogger<LoggedErrorsTests>>();
        gateway.ExpectLoggedErrors("disk unavailable");

        logger.LogError(new IOException("disk unavailable"), "Commit failed");
        logger.LogError("Something else broke");
        var failure = Assert.Throws<AssertionException>(gateway.ThrowIfLoggedErrors);

        Assert.That(failure.Message, Does.Contain("Something else broke").And.Not.Contain("Commit failed"));
    }

    [Test]
    public void A_gateway_process_that_logs_errors_reports_them()
    {
        // The child process's console is scanned for ERR/FTL lines; a start that fails on a bad setting logs both.
        var dir = Path.Combine(Path.GetTempPath(), "pantri-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var failure = Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(dir, "--Pantri:CommandsPerSecond=0"));

            Assert.That(failure.Message, Does.Contain("FTL] The gateway stopped unexpectedly").And.Contain("CommandsPerSecond"));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
