using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Events;
using Pantri.Iot.Gateway.Retail;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Entry;

/// <summary>The optional per-household webhook: the same events as <c>GET /v1/events</c>, POSTed and signed with a
/// secret the gateway generated for the household — and never into the gateway's own network unless allowed.</summary>
[Category("Integration")]
public sealed class HouseholdWebhookTests
{
    private const string Button = "123456789";

    [Test]
    public async Task An_approval_request_is_posted_to_the_households_webhook_signed_with_its_secret()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var gateway = await TestGateway.StartAsync(["--Pantri:Events:WebhookAllowPrivateNetworks=true"]);
        using var http = gateway.Http(gateway.Demo.UserAuth);
        using var set = await http.PutAsJsonAsync("/v1/events/webhook", new { Url = receiver.Url.ToString() });
        var hook = await set.Content.ReadFromJsonAsync<JsonElement>();
        using (await http.PutAsJsonAsync($"/v1/instructions/{Button}/safeguards", new { ApprovalRequired = true }))
        {
        }

        await using var button = await gateway.ConnectButtonAsync();
        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var posted = await receiver.WaitAsync(p => p.Body.Contains("approval-requested", StringComparison.Ordinal), TimeSpan.FromSeconds(5));

        Assert.That((int)set.StatusCode, Is.EqualTo(200));
        var secret = hook.GetProperty("Secret").GetString()!;
        Assert.That(secret, Has.Length.GreaterThanOrEqualTo(40), "a generated 32-byte secret");
        Assert.That(posted, Is.Not.Null, "the webhook got the approval request");
        Assert.That(WebhookSignature.Verify(secret, posted!.Signature, System.Text.Encoding.UTF8.GetBytes(posted.Body), DateTimeOffset.UtcNow), Is.True, "signed with the household's secret");
        using var body = JsonDocument.Parse(posted.Body);
        Assert.That(body.RootElement.GetProperty("Type").GetString(), Is.EqualTo(HouseholdEventTypes.ApprovalRequested));
        Assert.That(body.RootElement.GetProperty("Data").GetProperty("OrderRef").GetInt64(), Is.EqualTo(ack.OrderRef));
    }

    [Test]
    public async Task By_default_a_webhook_pointing_into_the_gateways_own_network_is_never_called()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var gateway = await TestGateway.StartAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);
        using var set = await http.PutAsJsonAsync("/v1/events/webhook", new { Url = receiver.Url.ToString() });
        await using var button = await gateway.ConnectButtonAsync();

        var ack = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var posted = await receiver.WaitAsync(_ => true, TimeSpan.FromSeconds(1.5));

        Assert.That((int)set.StatusCode, Is.EqualTo(200), "the URL itself is well-formed");
        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), "an event was produced");
        Assert.That(posted, Is.Null, "127.0.0.1 is not reachable for a household's webhook");
        Assert.That(HouseholdWebhookSender.IsNonPublic(System.Net.IPAddress.Parse("10.1.2.3")), Is.True);
        Assert.That(HouseholdWebhookSender.IsNonPublic(System.Net.IPAddress.Parse("::ffff:192.168.1.1")), Is.True);
        Assert.That(HouseholdWebhookSender.IsNonPublic(System.Net.IPAddress.Parse("169.254.169.254")), Is.True, "the cloud metadata address");
        Assert.That(HouseholdWebhookSender.IsNonPublic(System.Net.IPAddress.Parse("93.184.216.34")), Is.False);
    }

    [TestCase("ftp://example.com/hook")]
    [TestCase("https://user:password@example.com/hook")]
    [TestCase("/relative")]
    [TestCase("")]
    public async Task A_webhook_url_that_is_not_absolute_http_without_user_info_is_a_400_naming_Url(string url)
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);

        using var set = await http.PutAsJsonAsync("/v1/events/webhook", new { Url = url });
        var problem = await set.Content.ReadFromJsonAsync<JsonElement>();

        Assert.That((int)set.StatusCode, Is.EqualTo(400));
        Assert.That(problem.GetProperty("errors").EnumerateObject().Single().Name, Is.EqualTo("Url"));
    }

    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<Posted> Posts { get; } = new();

        public Uri Url { get; private set; } = null!;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", async (HttpContext http) =>
            {
                using var reader = new StreamReader(http.Request.Body);
                receiver.Posts.Enqueue(new Posted(await reader.ReadToEndAsync(), http.Request.Headers[WebhookSignature.Header].ToString()));
                http.Response.StatusCode = 204;
            });
            await app.StartAsync();
            receiver.Url = new Uri(new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), "/hook");
            return receiver;
        }

        public async Task<Posted?> WaitAsync(Func<Posted, bool> match, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (Posts.FirstOrDefault(match) is { } found)
                {
                    return found;
                }

                await Task.Delay(50);
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record Posted(string Body, string Signature);
}
