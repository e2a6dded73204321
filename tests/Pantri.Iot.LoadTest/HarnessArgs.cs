using System.Globalization;

namespace Pantri.Iot.LoadTest;

/// <summary>Command line: <c>&lt;scenario&gt; [--name value]…</c>. Unknown names are refused so a typo does not
/// silently run the default.</summary>
public sealed class HarnessArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="args"/>.</summary>
    public HarnessArgs(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Scenario = args.Count > 0 ? args[0] : "help";
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --name, got '{name}'");
            }

            var value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            _values[name[2..]] = value;
        }
    }

    /// <summary>The scenario name.</summary>
    public string Scenario { get; }

    /// <summary>A string option.</summary>
    public string String(string name, string fallback)
    {
        _read.Add(name);
        return _values.GetValueOrDefault(name, fallback);
    }

    /// <summary>An optional string option.</summary>
    public string? Optional(string name)
    {
        _read.Add(name);
        return _values.GetValueOrDefault(name);
    }

    /// <summary>An integer option.</summary>
    public int Int(string name, int fallback) => int.Parse(String(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>A number option.</summary>
    public double Double(string name, double fallback) => double.Parse(String(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>A comma-separated list of integers.</summary>
    public IReadOnlyList<int> Ints(string name, string fallback) =>
        String(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();

    /// <summary>A comma-separated list of names.</summary>
    public IReadOnlyList<string> Names(string name, string fallback) =>
        String(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Throws when an option was given that no scenario read.</summary>
    public void ThrowIfUnread()
    {
        var unread = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unread.Count > 0)
        {
            throw new ArgumentException("unknown option(s): --" + string.Join(", --", unread));
        }
    }
}
