using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Entry;

/// <summary>The built-in OpenAPI document describes the whole HTTP API: every <c>/v1/</c> route the running gateway
/// maps is in <c>/openapi/v1.json</c> with its method, a JSON schema for its success answer, and a request-body schema
/// where it takes one; the interactive page answers at <c>/scalar/v1</c>.</summary>
public sealed partial class OpenApiDocumentTests : SharedGatewayTest
{
    [Test]
    public async Task Every_v1_route_is_in_the_document_with_its_request_and_response_schemas()
    {
        using var http = Gateway.Http();
        using var document = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");

        var checkedRoutes = 0;
        foreach (var endpoint in Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!route.StartsWith("/v1/", StringComparison.Ordinal))
            {
                continue;
            }

            var documented = Constraint().Replace(route, "}");
            Assert.That(paths.TryGetProperty(documented, out var operations), Is.True, $"{documented} is in the document");
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)
            {
                Assert.That(operations.TryGetProperty(method.ToLowerInvariant(), out var operation), Is.True, $"{method} {documented} is in the document");
                var success = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
                Assert.That(success.Any(r => HasJsonSchema(r.Value)), Is.True, $"{method} {documented} documents the schema of its answer");
                if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not null)
                {
                    Assert.That(operation.TryGetProperty("requestBody", out var body) && HasJsonSchema(body), Is.True, $"{method} {documented} documents its body");
                }
                else
                {
                    Assert.That(method, Is.EqualTo("POST").Or.EqualTo("GET").Or.EqualTo("DELETE"), $"{method} {documented} takes a body, so it must say which");
                }

                checkedRoutes++;
            }
        }

        Assert.That(checkedRoutes, Is.GreaterThanOrEqualTo(20));
        var instruction = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("InstructionView").GetProperty("properties");
        Assert.That(instruction.TryGetProperty("Instruction_Ref", out _), Is.True, "schemas use the contract's field names");
        Assert.That((await http.GetAsync("/scalar/v1")).IsSuccessStatusCode, Is.True, "the interactive page answers");
    }

    private static bool HasJsonSchema(JsonElement withContent) =>
        withContent.TryGetProperty("content", out var content)
        && content.EnumerateObject().Any(c => (c.Name.Contains("json", StringComparison.Ordinal) || c.Name is "text/event-stream" or "application/zip") && c.Value.TryGetProperty("schema", out _));

    // "{instructionRef:long}" → "{instructionRef}", as OpenAPI writes route parameters.
    [GeneratedRegex(":[^}]+}")]
    private static partial Regex Constraint();
}
