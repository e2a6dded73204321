using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Tls;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Home;

/// <summary>The ops dashboard served over HTTPS connects its MQTT.js client over WSS (<c>wss://host/mqtt</c>) in
/// Debian's headless Chromium, which trusts only the gateway's generated server key (pinned by its SPKI hash, as a
/// browser that has imported the CA would trust it).</summary>
[Category("Integration")]
public sealed class DashboardOverWssTests
{
    [Test]
    public async Task The_dashboard_over_HTTPS_logs_in_over_WSS_and_shows_a_press()
    {
        Assert.That(File.Exists("/usr/bin/chromium") && File.Exists("/usr/bin/chromedriver"), Is.True, "scripts/test.sh installs chromium and chromium-driver");
        await using var gateway = await TestGateway.StartAsync(
        [
            "--Pantri:Tls:Enabled=true", "--Pantri:Tls:GenerateSelfSigned=true", "--Pantri:Tls:MqttPort=0", "--Pantri:Tls:MqttBindAddress=127.0.0.1",
            "--urls=https://127.0.0.1:0",
        ]);
        var https = new Uri(gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        using var server = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(gateway.DataDirectory, ServerCertificates.FolderName, "server.pem"));
        var spki = Convert.ToBase64String(SHA256.HashData(server.PublicKey.ExportSubjectPublicKeyInfo()));
        using var browser = StartChromium(spki);

        browser.Navigate().GoToUrl(new Uri(https, "/ops"));
        browser.FindElement(By.Id("user")).SendKeys(TestGateway.OpsUser);
        browser.FindElement(By.Id("password")).SendKeys(TestGateway.OpsPassword);
        browser.FindElement(By.Id("connect")).Click();
        var connected = await WaitAsync(browser, "return document.getElementById('connection').dataset.state === 'connected'", TimeSpan.FromSeconds(15));
        Assert.That(connected, Is.True, "connection: " + browser.FindElement(By.Id("connection")).Text);
        Assert.That(browser.ExecuteScript("return location.protocol"), Is.EqualTo("https:"));

        await using var button = await gateway.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, """{"RequestId": "wss-dashboard"}""");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(await WaitAsync(browser, $"return document.querySelector('#orders tr[data-order=\"{ack.OrderRef}\"]') !== null", TimeSpan.FromSeconds(5)), Is.True, "the order reached the page over WSS");
    }

    private static ChromeDriver StartChromium(string spki)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", $"--ignore-certificate-errors-spki-list={spki}");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static async Task<bool> WaitAsync(ChromeDriver browser, string script, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (browser.ExecuteScript(script) is true)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }
}
