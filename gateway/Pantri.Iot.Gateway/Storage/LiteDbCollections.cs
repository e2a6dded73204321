namespace Pantri.Iot.Gateway.Storage;

/// <summary>The names of the LiteDB collections, shared by the typed reads and the journal's untyped writes.</summary>
internal static class LiteDbCollections
{
    public const string Devices = "devices";
    public const string Instructions = "instructions";
    public const string Orders = "orders";
    public const string Households = "households";
    public const string Users = "users";
    public const string PairingCodes = "pairingcodes";
    public const string Audit = "audit";
    public const string Outbox = "outbox";
    public const string Commands = "commands";

    /// <summary>Commands' idempotency key hashes, indexed (<see cref="CommandKeyIndex"/>).</summary>
    public const string CommandKeys = "commandkeys";
    public const string Meta = "meta";
    public const string Safeguards = "safeguards";

    /// <summary>One document: the journal's id and the last of its batches this database holds.</summary>
    public const string Journal = "journal";
}
