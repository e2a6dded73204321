using System.CommandLine;

namespace Pantri.Iot.Gateway.Cli;

/// <summary>The gateway's command line: <c>Pantri.Iot.Gateway households add "Smith"</c>, <c>token --household smith
/// --user alice</c>, <c>devices list --household smith</c>, <c>ops-users add …</c>. <c>Program</c> hands the arguments
/// here when the first one is a verb; otherwise it runs the gateway. Each verb group is one file with an
/// <see cref="ICliVerb"/> class, found here by reflection, so adding a verb touches nothing else. Verbs run against the
/// data directory while the gateway is stopped (see <see cref="OfflineGateway"/>).</summary>
public static class GatewayCli
{
    /// <summary>Exit code of a refused request (bad input, unknown household…).</summary>
    public const int Refused = 1;

    /// <summary>Exit code when the data directory is held by a running gateway (or cannot be used).</summary>
    public const int Unavailable = 3;

    /// <summary>The data directory option every verb accepts (default: <c>Pantri:DataDirectory</c>, i.e. <c>./data</c>).</summary>
    public static readonly Option<string?> DataDirectory = new("--data-dir")
    {
        Description = "The gateway's data directory (default: Pantri:DataDirectory from configuration or the environment, else ./data)",
        Recursive = true,
    };

    private static readonly ICliVerb[] Verbs = typeof(GatewayCli).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ICliVerb).IsAssignableFrom(t))
        .Select(t => (ICliVerb)Activator.CreateInstance(t)!)
        .OrderBy(v => v.Name, StringComparer.Ordinal)
        .ToArray();

    /// <summary>True when <paramref name="args"/> start with a verb (or <c>help</c>), rather than gateway settings.</summary>
    public static bool IsVerb(string[] args) =>
        args is [var first, ..] && (first is "help" || Verbs.Any(v => v.Name == first));

    /// <summary>Parses and runs a verb; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = new RootCommand("Pantri IoT gateway. Without a verb it runs the gateway; with one it manages the installation's data directory while the gateway is stopped.");
        root.Add(DataDirectory);
        var context = new CliContext(output ?? Console.Out);
        foreach (var verb in Verbs)
        {
            root.Add(verb.Build(context));
        }

        var arguments = args is ["help", .. var rest] ? [.. rest, "--help"] : args;
        return root.Parse(arguments).InvokeAsync(new InvocationConfiguration { Output = context.Output }, cancellationToken);
    }
}

/// <summary>A group of command-line verbs (<c>households</c>, <c>devices</c>…): one class per file under <c>Cli/</c>,
/// with a parameterless constructor.</summary>
public interface ICliVerb
{
    /// <summary>The verb as typed (<c>households</c>).</summary>
    string Name { get; }

    /// <summary>Builds the verb's command with its sub-commands and actions.</summary>
    Command Build(CliContext context);
}

/// <summary>What verbs share: where they write.</summary>
/// <param name="Output">Standard output (tests pass their own).</param>
public sealed record CliContext(TextWriter Output);
