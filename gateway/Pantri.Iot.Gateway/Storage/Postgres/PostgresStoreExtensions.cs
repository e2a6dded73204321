using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Storage.Postgres;

/// <summary>Wires <c>Pantri:Storage</c>: with Provider=PostgreSql the gateway's <see cref="IGatewayStore"/> is
/// <see cref="PostgresGatewayStore"/>; otherwise nothing is registered and LiteDB stays the store.</summary>
public static class PostgresStoreExtensions
{
    /// <summary>Registers the storage options and, when configured, the PostgreSQL store. Call before the LiteDB
    /// store's <c>TryAdd</c>.</summary>
    public static IHostApplicationBuilder AddPantriPostgresStore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        if (options.Provider == StorageProvider.PostgreSql)
        {
            builder.Services.AddSingleton<IGatewayStore>(sp =>
            {
                var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
                var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
                try
                {
                    return new PostgresGatewayStore(storage.ConnectionString!, gateway.IdempotencyWindow);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
                {
                    throw new GatewayStartupException($"The PostgreSQL database (Pantri:Storage:ConnectionString) cannot be used: {ex.Message}", ex);
                }
            });
        }

        return builder;
    }
}
