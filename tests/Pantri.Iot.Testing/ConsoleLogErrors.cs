using System.Text;
using System.Text.RegularExpressions;

namespace Pantri.Iot.Testing;

/// <summary>Picks the Error and Fatal entries out of a gateway process's console output, which Serilog writes as
/// <c>[HH:mm:ss ERR] message</c> followed by the exception's lines; the <see cref="LoggedErrors"/> of a child process.</summary>
internal sealed partial class ConsoleLogErrors
{
    private readonly Lock _lock = new();
    private readonly List<string> _errors = [];
    private readonly List<string> _expected = [];
    private StringBuilder? _current;

    /// <summary>Takes one line of output; called in order for one stream (Process raises its events one at a time).</summary>
    public void Add(string? line)
    {
        lock (_lock)
        {
            if (line is null)
            {
                Close();
                return;
            }

            var header = Header().Match(line);
            if (header.Success)
            {
                Close();
                if (header.Groups["level"].Value is "ERR" or "FTL")
                {
                    _current = new StringBuilder(line);
                }
            }
            else if (_current is not null && !line.StartsWith("   at ", StringComparison.Ordinal))
            {
                // The exception's type and message (and inner ones); the stack frames only make the report long.
                _current.AppendLine().Append("    ").Append(line);
            }
        }
    }

    /// <summary>Declares errors the test provokes on purpose: entries containing <paramref name="fragment"/>.</summary>
    public void Expect(string fragment)
    {
        ArgumentException.ThrowIfNullOrEmpty(fragment);
        lock (_lock)
        {
            _expected.Add(fragment);
        }
    }

    /// <summary>Removes and returns the entries so far that no <see cref="Expect"/> covers.</summary>
    public IReadOnlyList<string> TakeUnexpected()
    {
        lock (_lock)
        {
            Close();
            var unexpected = _errors.Where(e => !_expected.Exists(fragment => e.Contains(fragment, StringComparison.Ordinal))).ToList();
            _errors.Clear();
            return unexpected;
        }
    }

    private void Close()
    {
        if (_current is not null)
        {
            _errors.Add(_current.ToString());
            _current = null;
        }
    }

    [GeneratedRegex(@"^\[\d{2}:\d{2}:\d{2} (?<level>[A-Z]{3})\] ")]
    private static partial Regex Header();
}
