using Scalar.AspNetCore;

namespace Pantri.Iot.Gateway.Entry.Http;

/// <summary>The HTTP API's description: the built-in ASP.NET Core OpenAPI document at <c>/openapi/v1.json</c> and an
/// interactive page (Scalar) at <c>/scalar/v1</c>. The endpoints read their JSON bodies themselves (to answer problem
/// details naming the field), so each one declares what it accepts and answers with the helpers here.</summary>
public static class ApiDocumentation
{
    /// <summary>Registers the OpenAPI document.</summary>
    public static IServiceCollection AddPantriApiDocumentation(this IServiceCollection services) => services.AddOpenApi();

    /// <summary>Maps <c>/openapi/v1.json</c> and the Scalar page <c>/scalar/v1</c> (both anonymous: they describe the API,
    /// they hold no data).</summary>
    public static IEndpointRouteBuilder MapPantriApiDocumentation(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }

    /// <summary>A setup call that answers <typeparamref name="T"/> (and RFC 7807 problems for refusals).</summary>
    internal static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder endpoint, int status = StatusCodes.Status200OK) =>
        endpoint.Produces<T>(status)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>A setup call whose JSON body is <typeparamref name="TBody"/>; a malformed or invalid one answers a 400
    /// validation problem naming the field.</summary>
    internal static RouteHandlerBuilder Takes<TBody>(this RouteHandlerBuilder endpoint)
        where TBody : notnull =>
        endpoint.Accepts<TBody>("application/json").ProducesValidationProblem();
}

/// <summary>Body of a retailer's status report (<c>POST /v1/retailers/{retailer}/orders/{ref}/status</c>), as the
/// OpenAPI document shows it.</summary>
/// <param name="State">Confirmed, Shipped, Delivered, Rejected or Cancelled.</param>
/// <param name="Reason">Why, optional.</param>
public sealed record RetailerStatusReport(string State, string? Reason);
