using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pantri.Iot.LoadTest;

/// <summary>A scenario's result: rows for the table, summary lines (ratios, targets), the machine, written as JSON.</summary>
public sealed class Report(string scenario, IReadOnlyDictionary<string, string> options)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Scenario name.</summary>
    public string Scenario { get; } = scenario;

    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The machine it ran on.</summary>
    public MachineInfo Machine { get; } = MachineInfo.Current();

    /// <summary>Options in force.</summary>
    public IReadOnlyDictionary<string, string> Options { get; } = options;

    /// <summary>Table rows (column → value).</summary>
    public List<Dictionary<string, object?>> Rows { get; } = [];

    /// <summary>Ratios, targets, checks.</summary>
    public List<string> Summary { get; } = [];

    /// <summary>Adds a row and prints it as it comes, so a long run shows progress.</summary>
    public void Add(Dictionary<string, object?> row)
    {
        Rows.Add(row);
        Console.WriteLine("  " + string.Join("  ", row.Select(kv => kv.Key + "=" + Format(kv.Value))));
    }

    /// <summary>Adds a summary line.</summary>
    public void Note(string line)
    {
        Summary.Add(line);
        Console.WriteLine("  * " + line);
    }

    /// <summary>Prints the table and summary, writes <c>benchmark-results/&lt;scenario&gt;-&lt;timestamp&gt;.json</c>; returns its path.</summary>
    public async Task<string> WriteAsync(string directory, CancellationToken cancellationToken)
    {
        Console.WriteLine();
        Console.WriteLine(ToTable());
        foreach (var line in Summary)
        {
            Console.WriteLine("* " + line);
        }

        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{Scenario}-{StartedAt:yyyyMMdd-HHmmss}.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(this, JsonOptions), cancellationToken).ConfigureAwait(false);
        Console.WriteLine("results: " + path);
        return path;
    }

    /// <summary>The rows as a Markdown table.</summary>
    public string ToTable()
    {
        var columns = Rows.SelectMany(r => r.Keys).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", columns) + " |");
        text.AppendLine("|" + string.Concat(columns.Select(_ => "---|")));
        foreach (var row in Rows)
        {
            text.AppendLine("| " + string.Join(" | ", columns.Select(c => Format(row.GetValueOrDefault(c)))) + " |");
        }

        return text.ToString();
    }

    /// <summary>Numbers with sensible precision.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        double d when double.IsNaN(d) => "n/a",
        double d => d.ToString(Math.Abs(d) >= 100 ? "F0" : "0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>"a/b = r" for a ratio line, or why there is none.</summary>
    public static string Ratio(string label, double f, double baseline) =>
        double.IsNaN(f) || double.IsNaN(baseline) || baseline == 0 ? $"{label}: n/a" : $"{label}: {Format(f)} / {Format(baseline)} = {Format(f / baseline)}";
}
