using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Ops;

/// <summary>The ops dashboard at <c>/ops</c> in Debian's headless Chromium (driven by chromedriver through Selenium),
/// against a real gateway and real MQTT devices. <c>scripts/test.sh</c> installs <c>chromium</c> and
/// <c>chromium-driver</c>.</summary>
[Category("Integration")]
public sealed class DashboardBrowserTests
{
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(2);

    [Test]
    public async Task The_page_logs_in_shows_presses_levels_presence_live_and_recovers_after_a_gateway_restart()
    {
        Assert.That(File.Exists("/usr/bin/chromium") && File.Exists("/usr/bin/chromedriver"), Is.True,
            "Debian's chromium and chromium-driver are needed (scripts/test.sh installs them)");
        var httpPort = FreePort();
        await using var gateway = await TestGateway.StartAsync([$"--urls=http://127.0.0.1:{httpPort}"]);
        using var browser = StartChromium();

        browser.Navigate().GoToUrl(new Uri(gateway.HttpBase, "/ops"));
        browser.FindElement(By.Id("user")).SendKeys(TestGateway.OpsUser);
        browser.FindElement(By.Id("password")).SendKeys(TestGateway.OpsPassword);
        browser.FindElement(By.Id("connect")).Click();
        Assert.That(await WaitAsync(browser, "return document.getElementById('connection').dataset.state === 'connected'", TimeSpan.FromSeconds(10)), Is.True, Describe(browser));
        Assert.That(await WaitAsync(browser, "return document.querySelector('#inventory [data-instruction=\"987654321\"]') !== null", TimeSpan.FromSeconds(5)), Is.True,
            "the jar's inventory, retained before the page joined");

        await using (var button = await gateway.ConnectButtonAsync())
        {
            Assert.That(await WaitAsync(browser, Script.Status(DemoCredentials.Button, "online"), Live), Is.True, "the button's presence turns online");

            var pressed = Stopwatch.StartNew();
            var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "browser-1"}""");
            Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
            Assert.That(await WaitAsync(browser, $"return document.querySelector('#events tr[data-kind=\"trigger\"][data-id=\"{AckIds.OrderPlaced}\"]') !== null", Live), Is.True, "the press in the event stream");
            Assert.That(await WaitAsync(browser, $"return document.querySelector('#orders tr[data-order=\"{ack.OrderRef}\"]') !== null", Live), Is.True, "the order in the orders table");
            Assert.That(pressed.Elapsed, Is.LessThan(Live + TimeSpan.FromSeconds(0.5)));

            await using var jar = await gateway.ConnectJarAsync();
            var level = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref": 987654321, "Level": 42, "RequestId": "browser-2"}""");
            Assert.That(level.IsSuccess, Is.True);
            Assert.That(await WaitAsync(browser, "return document.querySelector('#inventory [data-instruction=\"987654321\"]').dataset.level === '42'", Live), Is.True, "the jar's level bar moves");
            SaveScreenshot(browser);
        }

        Assert.That(await WaitAsync(browser, Script.Status(DemoCredentials.Button, "offline"), Live), Is.True, "the button's presence flips when it disconnects");

        await gateway.RestartAsync();
        Assert.That(await WaitAsync(browser, "return document.getElementById('connection').dataset.state === 'connected' && document.querySelector('#orders tr') !== null", TimeSpan.FromSeconds(15)), Is.True,
            "the page reconnects after the restart and re-reads the retained orders: " + Describe(browser));
        await using var again = await gateway.ConnectButtonAsync();
        Assert.That(await WaitAsync(browser, Script.Status(DemoCredentials.Button, "online"), Live), Is.True, "live again after the restart");
    }

    private static ChromeDriver StartChromium()
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>Evaluates <paramref name="script"/> until it returns true, at most for <paramref name="timeout"/>.</summary>
    private static async Task<bool> WaitAsync(ChromeDriver browser, string script, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (browser.ExecuteScript(script) is true)
            {
                return true;
            }

            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }
    }

    private static string Describe(ChromeDriver browser) => "connection: " + browser.FindElement(By.Id("connection")).Text;

    /// <summary>Saves the page to the test's output; with <c>PANTRI_UPDATE_SCREENSHOT=1</c> also to the README's
    /// <c>docs/ops-dashboard.png</c> (opt-in, so a test run leaves the checkout unchanged).</summary>
    private static void SaveScreenshot(ChromeDriver browser)
    {
        var shot = browser.GetScreenshot();
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "ops-dashboard.png");
        shot.SaveAsFile(path);
        TestContext.AddTestAttachment(path, "the ops dashboard");
        if (Environment.GetEnvironmentVariable("PANTRI_UPDATE_SCREENSHOT") != "1")
        {
            return;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pantri.Iot.sln")))
            {
                shot.SaveAsFile(Path.Combine(dir.FullName, "docs", "ops-dashboard.png"));
                break;
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static class Script
    {
        public static string Status(string deviceId, string status) =>
            $"return document.querySelector('#devices tr[data-device=\"{deviceId}\"][data-status=\"{status}\"]') !== null";
    }
}
