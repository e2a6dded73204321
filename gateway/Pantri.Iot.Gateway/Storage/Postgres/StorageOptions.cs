using System.ComponentModel.DataAnnotations;

namespace Pantri.Iot.Gateway.Storage.Postgres;

/// <summary>Which store the gateway uses, bound from <c>Pantri:Storage</c>.</summary>
public sealed class StorageOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Pantri:Storage";

    /// <summary>LiteDb (default) or PostgreSql.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.LiteDb;

    /// <summary>Npgsql connection string of the PostgreSQL database (with PostgreSql), e.g.
    /// <c>Host=db;Database=pantri;Username=pantri;Password=…</c>; give it through the environment
    /// (<c>Pantri__Storage__ConnectionString</c>). The schema is created and migrated at start.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long one instance holds a claimed submission before another may take it over (default 2
    /// minutes): longer than a retailer call with its retries.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan OutboxLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult("Pantri:Storage:ConnectionString is required with Provider=PostgreSql.", [nameof(ConnectionString)]);
        }
    }
}
