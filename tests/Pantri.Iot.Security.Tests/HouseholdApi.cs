using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>The setup API as a household's app calls it: JSON bodies, a token per account, problem details back.</summary>
internal static class HouseholdApi
{
    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>An app client of a new household <paramref name="accountId"/> (created through the writer like the
    /// command line does, with its owner <c>user-of-{accountId}</c>), with a token the gateway itself signed.</summary>
    public static async Task<HttpClient> AsAccountAsync(TestGateway gateway, string accountId)
    {
        var created = await gateway.Services.GetRequiredService<SetupService>().RunAsync(new CreateHousehold(accountId, accountId, "user-of-" + accountId), CancellationToken.None);
        Assert.That(created.Error, Is.Null, "the household is created");
        var token = gateway.Services.GetRequiredService<UserTokens>().Issue("user-of-" + accountId, accountId);
        return gateway.Http(token);
    }

    /// <summary>The response body as JSON (an empty body reads as an empty object, so assertions name what is missing).</summary>
    public static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? JsonDocument.Parse("{}").RootElement : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The field names of an RFC 7807 validation problem's <c>errors</c>, or none.</summary>
    public static async Task<IReadOnlyList<string>> ErrorFieldsAsync(HttpResponseMessage response)
    {
        var body = await BodyAsync(response);
        return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
            ? errors.EnumerateObject().Select(p => p.Name).ToList()
            : [];
    }

    public static async Task<long> CreateInstructionAsync(HttpClient http, string body)
    {
        var response = await http.PostAsync("/v1/instructions", Json(body));
        Assert.That((int)response.StatusCode, Is.EqualTo(201), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64();
    }

    public static async Task<int> CountInstructionsAsync(HttpClient http)
    {
        var response = await http.GetAsync("/v1/instructions");
        Assert.That((int)response.StatusCode, Is.EqualTo(200), "the household's list must keep working: " + await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength();
    }
}
