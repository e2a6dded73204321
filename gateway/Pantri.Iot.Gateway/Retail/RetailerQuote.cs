using System.Text.Json;
using Pantri.Iot.Domain;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>A unit price a retailer quotes when it confirms (<c>"UnitPrice": 4.20, "Currency": "EUR"</c>): read as a
/// JSON number straight into a decimal, never through floating point.</summary>
/// <param name="UnitPrice">The price of one unit.</param>
/// <param name="Currency">ISO 4217 code, or null for the household's currency.</param>
public sealed record RetailerQuote(decimal UnitPrice, string? Currency)
{
    /// <summary>Reads the quote of a retailer's JSON object. False when one is present but unusable (not a number,
    /// negative, above 1,000,000, more than 4 decimals, or a currency that is not three capital letters); true with a
    /// null quote when there is none.</summary>
    public static bool TryRead(JsonElement answer, out RetailerQuote? quote)
    {
        quote = null;
        decimal? price = null;
        string? currency = null;
        foreach (var property in answer.EnumerateObject())
        {
            if (property.Name.Equals("UnitPrice", StringComparison.OrdinalIgnoreCase))
            {
                if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDecimal(out var value)
                    || value < 0 || value > SafeguardRules.MaxAmount || decimal.Round(value, 4) != value)
                {
                    return false;
                }

                price = value;
            }
            else if (property.Name.Equals("Currency", StringComparison.OrdinalIgnoreCase))
            {
                currency = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                if (!SafeguardRules.IsCurrency(currency))
                {
                    return false;
                }
            }
        }

        quote = price is { } unitPrice ? new RetailerQuote(unitPrice, currency) : null;
        return true;
    }
}
