using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Contract;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>Every <c>/v1/</c> endpoint that names a resource in its route, called by one household with another
/// household's ids, answers 404 — exactly as for an id nobody has, never 403 — and changes nothing. The routes are read
/// from the running gateway, so an endpoint added later is walked too (and a route parameter this test does not know
/// fails it, until it learns what to put there).</summary>
public sealed class CrossHouseholdTests : SharedGatewayTest
{
    // Endpoints not authorised by User_Auth at all: a retailer's signed callback, the installation-admin calls of the
    // command line (their own tests check them).
    private static readonly string[] NotUserAuth = ["/v1/retailers/", "/v1/admin/"];

    [Test]
    public async Task Every_v1_endpoint_answers_404_for_another_households_ids()
    {
        using var owner = await HouseholdApi.AsAccountAsync(Gateway, "victim-household");
        using var intruder = await HouseholdApi.AsAccountAsync(Gateway, "intruder-household");
        var created = await (await owner.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"Victim's button"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        var deviceId = created.GetProperty("DeviceId").GetString()!;
        var instructionRef = await HouseholdApi.CreateInstructionAsync(owner, $$"""{"Product":"Tea","Retailer":"shop","DeviceIds":["{{deviceId}}"]}""");
        await using (var device = await Gateway.ConnectAsync(deviceId, created.GetProperty(FieldNames.DeviceKey).GetString()!))
        {
            Assert.That((await device.RequestAsync(DeviceTopicKind.Trigger, "")).Id, Is.EqualTo(201));
        }

        var orderRef = Gateway.Store.FindOrders("victim-household", 10).Single().Ref;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["deviceId"] = deviceId,
            ["instructionRef"] = instructionRef.ToString(CultureInfo.InvariantCulture),
            ["orderRef"] = orderRef.ToString(CultureInfo.InvariantCulture),
            ["userId"] = "user-of-victim-household",
        };

        var walked = new List<string>();
        foreach (var (method, pattern) in Routes().Where(r => r.Pattern.Contains('{', StringComparison.Ordinal)))
        {
            var path = Fill(pattern, values);
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            // One body valid for every endpoint (unknown fields are ignored), so validation never answers first.
            request.Content = HouseholdApi.Json("""{"Name":"n","Product":"p","Retailer":"r","Quantity":1,"State":"Cancelled","ReorderAt":1,"Unit":"count","Debounce":1,"UserId":"x","Role":"Member","Fallbacks":[]}""");
            var response = await intruder.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), $"{method} {pattern}: {await response.Content.ReadAsStringAsync()}");
            walked.Add($"{method} {pattern}");
        }

        Assert.That(walked, Has.Count.GreaterThanOrEqualTo(12), "the walk covered the setup API: " + string.Join(", ", walked));
        Assert.That((await owner.GetAsync($"/v1/devices/{deviceId}")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the device survived the walk");
        Assert.That((await owner.GetAsync($"/v1/instructions/{instructionRef}")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the instruction survived the walk");
        Assert.That((await owner.GetAsync("/v1/household")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the household and its owner survived the walk");
        var lists = string.Join(" ", await Task.WhenAll(new[] { "/v1/devices", "/v1/instructions", "/v1/orders", "/v1/household" }.Select(p => intruder.GetStringAsync(p))));
        Assert.That(lists, Does.Not.Contain(deviceId).And.Not.Contain(values["instructionRef"]).And.Not.Contain(values["orderRef"]), "the intruder's lists show none of it");
    }

    private IEnumerable<(string Method, string Pattern)> Routes()
    {
        foreach (var endpoint in Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!pattern.StartsWith("/v1/", StringComparison.Ordinal) || NotUserAuth.Any(p => pattern.StartsWith(p, StringComparison.Ordinal)))
            {
                continue;
            }

            foreach (var method in endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                yield return (method, pattern);
            }
        }
    }

    private static string Fill(string pattern, Dictionary<string, string> values)
    {
        var path = pattern;
        foreach (var parameter in System.Text.RegularExpressions.Regex.Matches(pattern, @"\{([^}:]+)(:[^}]*)?\}").Cast<System.Text.RegularExpressions.Match>())
        {
            var name = parameter.Groups[1].Value;
            Assert.That(values.ContainsKey(name), Is.True, $"{pattern}: the walk does not know what to put in {{{name}}}");
            path = path.Replace(parameter.Value, values[name], StringComparison.Ordinal);
        }

        return path;
    }
}
