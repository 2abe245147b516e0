using System.CommandLine;
using Palisade.Cli.Commands;

namespace Palisade.Cli;

/// <summary>
/// The one <c>palisade</c> executable. <see cref="Run"/> takes its writers so that tests drive the
/// real command line in-process and compare what it prints.
/// </summary>
public static class PalisadeCli
{
    public static RootCommand Build() => new("Palisade: Alibaba Cloud ECS security groups, self-hosted, explained and enforced.")
    {
        EvalCommand.Build(),
    };

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build();
        var parsed = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var e in parsed.Errors)
                error.WriteLine($"error: {e.Message}");
            var command = string.Join(' ', parsed.CommandResult.Command is RootCommand ? [] : new[] { parsed.CommandResult.Command.Name });
            error.WriteLine($"Run 'palisade {command}{(command.Length > 0 ? " " : "")}--help' for usage.");
            return ExitCodes.BadInput;
        }
        return parsed.Invoke(configuration);
    }
}
