using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>Reads a JSON request body of the setup API. Only the shape is checked here (JSON, types); what the values
/// may be is the domain's to decide. A body that does not deserialise is a 400 problem naming the field where it
/// broke; one above the size limit is a 413.</summary>
internal static class JsonBody
{
    /// <summary>The body as <typeparamref name="T"/>, or the problem to answer instead.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpContext http)
        where T : class
    {
        var request = http.Request;
        if (!request.HasJsonContentType())
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, detail: "send Content-Type: application/json"));
        }

        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, options, http.RequestAborted).ConfigureAwait(false);
            return value is null ? (null, Problems.Invalid("body", "body: a JSON object is required")) : (value, null);
        }
        catch (JsonException ex)
        {
            var field = FieldOf(ex.Path);
            return (null, Problems.Invalid(field, field + " is not valid JSON of the expected type"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, detail: "the request body is too large"));
        }
    }

    // "$.Tracking.ReorderAt" → "Tracking.ReorderAt", "$.DeviceIds[0]" → "DeviceIds[0]", "$" → "body".
    private static string FieldOf(string? path) => path switch
    {
        null or "" or "$" => "body",
        _ when path.StartsWith("$.", StringComparison.Ordinal) => path[2..],
        _ when path.StartsWith('$') => path[1..],
        _ => path,
    };
}

/// <summary>The setup API's answers for refusals: RFC 7807 problem details.</summary>
internal static class Problems
{
    /// <summary>A 400 whose <c>errors</c> name the refused field; <paramref name="message"/> is a whole sentence.</summary>
    public static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message);

    /// <summary>A refusal with a status and a reason.</summary>
    public static IResult Refused(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);
}
