namespace Pantri.Iot.Domain;

/// <summary>A household (an account): owns devices, instructions, orders and users.</summary>
public sealed class Household
{
    /// <summary>Its id, as tokens name it (<c>smith</c>); chosen at creation, never changed.</summary>
    public string AccountId { get; set; } = string.Empty;

    /// <summary>Its display name.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
