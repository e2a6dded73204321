using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Broker;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Gateway.Backup;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Entry.ExternalBroker;
using Pantri.Iot.Gateway.Entry.Http;
using Pantri.Iot.Gateway.Entry.Mqtt;
using Pantri.Iot.Gateway.Entry.WebSockets;
using Pantri.Iot.Gateway.Events;
using Pantri.Iot.Gateway.HomeAssistant;
using Pantri.Iot.Gateway.Ops;
using Pantri.Iot.Gateway.Pairing;
using Pantri.Iot.Gateway.Lifecycle;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Retail;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Gateway.Storage.Postgres;
using Pantri.Iot.Gateway.Telemetry;
using Pantri.Iot.Gateway.Tls;

namespace Pantri.Iot.Gateway;

/// <summary>Wires the gateway into a host.</summary>
public static class GatewayBuilderExtensions
{
    /// <summary>Adds storage, the command pipeline, the demo household, <c>User_Auth</c> validation and the
    /// embedded broker. Hosted services start in this order: data directory lock, graceful shutdown, closed-order
    /// retention, outbound publisher, writer, demo, ops state rebuild, broker (the rebuild needs the loaded state and
    /// must publish before the broker accepts clients); on SIGTERM <see cref="GracefulShutdown"/> drains before any of
    /// them stops.</summary>
    public static IHostApplicationBuilder AddPantriGateway(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddPantriMetrics();

        // First of the hosted services, so it is created before anything opens the store: one gateway per directory.
        services.AddSingleton<DataDirectoryLock>();
        services.AddHostedService(sp => sp.GetRequiredService<DataDirectoryLock>());

        // Drains before any hosted service stops (IHostedLifecycleService.StoppingAsync), whatever the registration order.
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        // Under the lock, before anything listens: the TLS certificate (loaded or generated in the data directory).
        builder.AddPantriTls();
        // Pantri:Storage:Provider=PostgreSql registers the shared store first; LiteDB stays the default.
        builder.AddPantriPostgresStore();
        services.TryAddSingleton<IGatewayStore>(sp =>
        {
            sp.GetRequiredService<DataDirectoryLock>();
            return StoreStartup.Open(sp.GetRequiredService<IOptions<GatewayOptions>>().Value, sp.GetRequiredService<ILogger<LiteDbGatewayStore>>());
        });
        services.AddSingleton<DeviceDirectory>();
        services.AddSingleton<IDeviceAuthenticator>(sp => sp.GetRequiredService<DeviceDirectory>());
        services.AddSingleton<IdentityDirectory>();
        services.AddSingleton<IOpsAuthenticator>(sp => sp.GetRequiredService<IdentityDirectory>());
        services.AddSingleton<IDeviceCredentialEvents, CredentialSessionTerminator>();
        services.AddOptions<OpsOptions>().BindConfiguration(OpsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ClosedOrderRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<ClosedOrderRetention>());
        // Ops and order messages reach the broker through the retention, which clears closed orders after a while.
        services.AddSingleton(sp => new OutboundPublisher(sp.GetRequiredService<ClosedOrderRetention>(), sp.GetRequiredService<ILogger<OutboundPublisher>>()));
        services.AddHostedService(sp => sp.GetRequiredService<OutboundPublisher>());
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<HouseholdWebhooks>();
        services.AddSingleton<HouseholdEvents>();
        services.AddHostedService<HouseholdWebhookSender>();
        services.AddSingleton<IPresenceObserver, PresenceEvents>();
        services.AddSingleton<CommandWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<CommandWriter>());
        // After the writer (which loads storage): sends the outbox to the retailer, off the ack path.
        services.AddOptions<RetailOptions>().BindConfiguration(RetailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetailersOptions>()
            .Configure<IConfiguration>((o, config) => config.GetSection(RetailerOptions.SectionName).Bind(o.Retailers))
            .Validate(o => o.Retailers.Values.All(r => r.Problem() is null), "Pantri:Retailers: each retailer needs a valid Kind; a Webhook one an absolute http(s) Url and a Secret of at least 16 characters")
            .ValidateOnStart();
        services.AddSingleton<SandboxRetailer>();
        services.AddSingleton<RetailMetrics>();
        services.AddSingleton<RetailerDirectory>();
        services.AddHostedService<RetailDispatcher>();
        services.AddOptions<SafeguardOptions>().BindConfiguration(SafeguardOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<ApprovalExpiry>();
        services.AddSingleton<UserTokens>();
        services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<DemoHousehold>();
        services.AddSingleton<OpsStateRebuild>();
        services.AddHostedService(sp => sp.GetRequiredService<OpsStateRebuild>());
        services.AddHttpContextAccessor();
        services.AddSingleton<SetupService>();
        services.AddOptions<PairingOptions>().BindConfiguration(PairingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PairingAttemptGuard>();
        services.AddSingleton<IProvisioningHandler, ProvisioningHandler>();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OnlineBackup>();
        services.AddSingleton<AccountClaims>();
        services.AddSingleton<MqttRequestHandler>();
        services.AddSingleton<IDeviceMessageHandler>(sp => new GracefulShutdown.DrainingHandler(sp.GetRequiredService<MqttRequestHandler>(), sp.GetRequiredService<GracefulShutdown>()));
        builder.AddPantriBroker();
        // Pantri:Broker:Mode=External: the gateway is a client of an external broker instead (registered last, so
        // its intake starts after the ops state rebuild, as the embedded listener does).
        builder.AddPantriExternalBroker();
        builder.AddPantriHomeAssistant();
        services.AddPantriHealthChecks();
        AddUserAuth(builder);
        builder.AddPantriHttpApi();
        services.AddPantriApiDocumentation();
        services.ConfigureHttpJsonOptions(json =>
        {
            // The HTTP API speaks the contract's spelling (Instruction_Ref, OrderRef…), not camelCase.
            json.SerializerOptions.PropertyNamingPolicy = null;
            json.SerializerOptions.PropertyNameCaseInsensitive = true;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        return builder;
    }

    /// <summary>Maps <c>POST /v1/trigger</c>, the setup API, retailer status callbacks, liveness (<c>/healthz</c>),
    /// readiness (<c>/readyz</c>), the Prometheus metrics (<c>/metrics</c>) and MQTT over WebSockets (<c>/mqtt</c>; needs
    /// <c>UseWebSockets</c>).</summary>
    public static IEndpointRouteBuilder MapPantriApi(this IEndpointRouteBuilder app)
    {
        app.MapPantriTrigger();
        app.MapPantriSetup();
        app.MapPantriIdentity();
        app.MapPantriPairing();
        app.MapPantriSafeguards();
        app.MapPantriEvents();
        app.MapPantriAudit();
        app.MapRetailerCallbacks();
        app.MapPantriApiDocumentation();
        app.MapPantriHealthChecks();
        app.MapPantriMetrics();
        app.MapPantriMqttWebSocket();
        app.MapPantriAdmin();
        app.MapPantriBrokerHttpAuth();
        return app;
    }

    private static void AddUserAuth(IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddAuthorization();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, UserTokens>((jwt, auth, tokens) =>
            {
                var a = auth.Value;
                jwt.MapInboundClaims = false;
                if (!string.IsNullOrEmpty(a.Authority))
                {
                    jwt.Authority = a.Authority;
                    jwt.Audience = a.Audience;
                    jwt.RequireHttpsMetadata = a.RequireHttpsMetadata;
                }
                else
                {
                    jwt.TokenValidationParameters = new TokenValidationParameters
                    {
                        ValidIssuer = a.Issuer,
                        ValidAudience = a.Audience,
                        IssuerSigningKey = tokens.SigningKey,
                        ClockSkew = TimeSpan.FromMinutes(1),
                    };
                }

                jwt.Events = new JwtBearerEvents
                {
                    // The seed sends the token in a User_Auth header, with or without "Bearer ".
                    OnMessageReceived = context =>
                    {
                        var header = context.Request.Headers[HttpHeaders.UserAuth].ToString();
                        if (header.Length > 0)
                        {
                            context.Token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header.Trim();
                        }

                        return Task.CompletedTask;
                    },

                    // A valid signature is not enough: the household must exist, and an embedded token's user must still
                    // belong to it, so deleting a household or removing a user ends their tokens at once (401).
                    OnTokenValidated = context =>
                    {
                        var claims = context.HttpContext.RequestServices.GetRequiredService<AccountClaims>();
                        if (context.Principal is null || !claims.IsKnown(context.Principal))
                        {
                            context.Fail("unknown household or user");
                        }

                        return Task.CompletedTask;
                    },
                };
            });
    }
}
