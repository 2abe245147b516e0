using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Palisade.Cli;

/// <summary>
/// <c>palisade --help</c> (and <c>palisade</c> alone): the commands grouped by what people do with
/// them, everyday work first, one line each; each command's own <c>--help</c> has the details.
/// A command missing from the groups below is still listed (under "More"), so none is ever hidden.
/// </summary>
internal sealed class RootHelp : SynchronousCommandLineAction
{
    private static readonly (string Title, (string Name, string Summary)[] Commands)[] Groups =
    [
        ("Everyday", [
            ("configure", "Save the server's URL, a region and an AccessKey as a profile (checked with a call)"),
            ("sg", "Security groups and their rules: list, show, create, authorize, revoke, policy, delete"),
            ("instance", "Instances: list, show (effective rules), run, join, leave, modify, delete"),
            ("eni", "Network interfaces (ENIs): list, show, create, attach, detach, modify, delete"),
            ("vpc", "VPCs"),
            ("vswitch", "vSwitches"),
            ("prefix-list", "Prefix lists: named sets of CIDR blocks that rules name as their peer"),
            ("port-range-list", "Port-range lists: named sets of port ranges that rules name as their ports"),
            ("tag", "Tags of groups and instances"),
            ("region", "Regions"),
            ("zone", "Zones of a region"),
        ]),
        ("Understand and check", [
            ("eval", "Decide one flow, and say which rule decided"),
            ("reach", "Who reaches an instance or group, what it reaches, or the whole matrix"),
            ("whatif", "The flows a change would open and close, before it is made"),
            ("audit", "Findings against the best practices for security groups"),
            ("suggest", "The narrowest rules that keep every observed flow of a group, and their what-if"),
            ("trail", "The action trail: who changed what, when"),
        ]),
        ("Run Palisade", [
            ("serve", "Run the control plane (the ECS API and the web console)"),
            ("demo", "Load an example account (web, app, db, ops) into a server, to explore"),
            ("account", "Accounts of a data directory"),
            ("accesskey", "AccessKeys: create, list, disable, enable, delete"),
            ("agent", "Enforce the groups of a host's NICs with nftables"),
            ("host", "Hosts: declare, credentials, bind NICs (operator); status"),
            ("export", "A server's region as a state file"),
            ("pull", "An account (Alibaba Cloud or Palisade) as state files, through the standard ECS API"),
            ("import", "A state file into a server"),
            ("backup", "A whole control plane to a file"),
            ("restore", "A backup into a data directory or PostgreSQL"),
            ("completion", "Shell completion for bash or zsh"),
        ]),
    ];

    public override int Invoke(ParseResult parseResult)
    {
        // The help option is the root's and recursive: a command's own --help keeps the standard text.
        if (parseResult.CommandResult.Command != parseResult.RootCommandResult.Command)
            return new HelpAction().Invoke(parseResult);
        var o = parseResult.InvocationConfiguration.Output;
        var root = parseResult.RootCommandResult.Command;
        o.WriteLine(root.Description);
        o.WriteLine();
        o.WriteLine("Usage: palisade COMMAND [options]      palisade COMMAND --help for its options and examples");
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var present = root.Subcommands.Where(c => !c.Hidden).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var groups = Groups.Select(g => (g.Title, Commands: g.Commands.Where(c => present.ContainsKey(c.Name)).ToList())).ToList();
        var others = present.Keys.Where(n => !Groups.SelectMany(g => g.Commands).Any(c => c.Name == n)).Order(StringComparer.Ordinal)
            .Select(n => (Name: n, Summary: FirstSentence(present[n].Description))).ToList();
        if (others.Count > 0)
            groups.Add(("More", others));
        var width = groups.SelectMany(g => g.Commands).Max(c => c.Name.Length) + 2;
        foreach (var (title, commands) in groups)
        {
            o.WriteLine();
            o.WriteLine($"{title}:");
            foreach (var (name, summary) in commands)
                o.WriteLine($"  {name.PadRight(width)}{summary}");
        }
        o.WriteLine();
        o.WriteLine("First run:");
        o.WriteLine("  palisade serve                      (in one terminal: prints the API and console URLs and the key's file)");
        o.WriteLine("  palisade demo                       (loads the example account into it)");
        o.WriteLine("  palisade audit                      (what the example gets wrong)");
        o.WriteLine();
        o.WriteLine("Options: -h, --help (this text), --version");
        return ExitCodes.Ok;
    }

    private static string FirstSentence(string? text)
    {
        var line = (text ?? "").Split('\n')[0].Trim();
        var end = line.IndexOf(". ", StringComparison.Ordinal);
        return (end > 0 ? line[..end] : line).TrimEnd('.');
    }

    /// <summary>
    /// A command that only groups others (<c>palisade sg</c>) prints its help when run bare, instead of
    /// the parser's "Required command was not provided".
    /// </summary>
    public static void HelpWhenBare(Command command)
    {
        foreach (var sub in command.Subcommands)
            HelpWhenBare(sub);
        if (command.Subcommands.Count > 0 && command.Action is null)
            command.SetAction(parse => new HelpAction().Invoke(parse));
    }
}
