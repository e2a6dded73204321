namespace Pantri.Iot.Gateway.Storage.Postgres;

/// <summary>Where the gateway keeps its state.</summary>
public enum StorageProvider
{
    /// <summary>LiteDB in the data directory (the default: one gateway process).</summary>
    LiteDb,

    /// <summary>A PostgreSQL database shared by any number of gateway instances.</summary>
    PostgreSql,
}
