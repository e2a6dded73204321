using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>The setup API is bounded: request bodies by size (413), each household by a rate (429 with Retry-After).</summary>
[Category("Integration")]
public sealed class SetupApiLimitsTests
{
    private TestGateway _gateway = null!;

    [OneTimeSetUp]
    public async Task StartGateway() => _gateway = await TestGateway.StartAsync(["--Pantri:Http:SetupRequestBurst=4", "--Pantri:Http:SetupRequestsPerSecond=0.01"]);

    [OneTimeTearDown]
    public async Task StopGateway() => await _gateway.DisposeAsync();

    [TearDown]
    public void FailOnUnexpectedLoggedErrors() => _gateway.ThrowIfLoggedErrors();

    [Test]
    public async Task A_body_above_16_KB_is_refused_with_413_before_it_is_read()
    {
        using var http = await HouseholdApi.AsAccountAsync(_gateway, "big-bodies");
        var padding = new string(' ', 17 * 1024);

        var response = await http.PostAsync("/v1/instructions", HouseholdApi.Json("""{"Product":"Tea","Retailer":"shop"}""" + padding));

        Assert.That((int)response.StatusCode, Is.EqualTo(413));
    }

    [Test]
    public async Task A_body_above_16_KB_without_a_length_is_refused_with_413_too()
    {
        using var http = await HouseholdApi.AsAccountAsync(_gateway, "chunked-bodies");
        var padding = new string(' ', 17 * 1024);
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("""{"Product":"Tea","Retailer":"shop"}""" + padding)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/instructions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await http.SendAsync(request);

        Assert.That((int)response.StatusCode, Is.EqualTo(413));
    }

    [Test]
    public async Task A_household_above_its_setup_rate_gets_429_with_retry_after_and_other_households_do_not()
    {
        using var busy = await HouseholdApi.AsAccountAsync(_gateway, "busy-household");
        using var calm = await HouseholdApi.AsAccountAsync(_gateway, "calm-household");

        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((int)(await busy.GetAsync("/v1/instructions")).StatusCode);
        }

        var refused = await busy.GetAsync("/v1/orders");
        var other = await calm.GetAsync("/v1/instructions");

        Assert.That(statuses.Take(4), Is.All.EqualTo(200));
        Assert.That(statuses.Skip(4), Is.All.EqualTo(429));
        Assert.That((int)refused.StatusCode, Is.EqualTo(429));
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.Not.Null.And.GreaterThan(TimeSpan.Zero));
        Assert.That((int)other.StatusCode, Is.EqualTo(200), "the limit is per household");
    }
}
