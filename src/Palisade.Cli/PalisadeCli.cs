using System.CommandLine;
using System.CommandLine.Help;
using Palisade.Cli.Commands;

namespace Palisade.Cli;

/// <summary>
/// The one <c>palisade</c> executable. <see cref="Run"/> takes its writers so that tests drive the
/// real command line in-process and compare what it prints.
/// </summary>
public static class PalisadeCli
{
    /// <summary>
    /// The command tree. A plain <see cref="Command"/> named <c>palisade</c> rather than a
    /// <see cref="RootCommand"/>, whose name would be the host process's (<c>dotnet</c>, <c>testhost</c>).
    /// </summary>
    public static Command Build()
    {
        var root = Tree();
        RootHelp.HelpWhenBare(root);
        // The root's help is grouped (everyday commands first); each command keeps the standard one.
        root.Options.OfType<HelpOption>().Single().Action = new RootHelp();
        root.SetAction(parse => new RootHelp().Invoke(parse));
        return root;
    }

    private static Command Tree() => new("palisade", "Palisade: Alibaba Cloud ECS security groups, self-hosted, explained and enforced.")
    {
        new HelpOption(),
        new VersionOption(),
        EvalCommand.Build(),
        AuditCommand.Build(),
        ReachCommand.Build(),
        WhatIfCommand.Build(),
        ServeCommand.Build(),
        DemoCommand.Build(),
        AccountCommands.Account(),
        AccountCommands.AccessKey(),
        ExportCommand.Build(),
        PullCommand.Build(),
        ImportCommand.Build(),
        TrailCommand.Build(),
        BackupCommands.Backup(),
        BackupCommands.Restore(),
        ConfigureCommand.Build(),
        SecurityGroupCommands.Build(),
        InstanceCommands.Build(),
        EniCommands.Build(),
        NetworkCommands.Vpc(),
        NetworkCommands.VSwitch(),
        NetworkCommands.Tag(),
        NetworkCommands.Region(),
        NetworkCommands.Zone(),
        ListCommands.PrefixList(),
        ListCommands.PortRangeList(),
        HostCommands.Build(),
        SuggestCommand.Build(),
        AgentCommand.Build(),
        CompletionCommand.Build(Build),
    };

    /// <summary>What commands read as their standard input when a caller (a test, an embedding) gives one; null: the console's.</summary>
    public static readonly AsyncLocal<TextReader?> Input = new();

    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input)
    {
        Input.Value = input;
        try
        {
            return Run(args, output, error);
        }
        finally
        {
            Input.Value = null;
        }
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build();
        var parsed = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0 && parsed.Action is not (System.CommandLine.Help.HelpAction or RootHelp))
        {
            foreach (var e in parsed.Errors)
                error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run '{CommandPath(parsed.CommandResult)} --help' for usage.");
            return ExitCodes.BadInput;
        }
        return parsed.Invoke(configuration);
    }

    /// <summary>The full command a usage error is about (<c>palisade sg authorize</c>), not only its last word.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is System.CommandLine.Parsing.CommandResult c)
                names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}
