using System.CommandLine;
using Palisade.Analysis.Audit;
using Palisade.Cli.Analysis;
using Palisade.Cli.Evaluation;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade audit</c>: the best-practice audit of a state file.</summary>
public static class AuditCommand
{
    public static Command Build()
    {
        var state = StateFileOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON: {\"findings\": [...]}." };
        var sarif = new Option<string?>("--sarif") { Description = "Also write the findings as SARIF 2.1.0 to FILE (for code-scanning tools).", HelpName = "FILE" };
        var command = new Command("audit", """
            Audit a state file against the best practices for security groups: sensitive ports reachable from
            the internet (decided by the engine over all groups of each instance, so drops, priorities, UDP
            and IPv6 count), internal rules open on all ports or to wide blocks, blocks where a group would
            do, overlapping accept and drop rules at one priority, unused, undocumented and dangling groups,
            limits close by, instances without a group.

            Examples:
              palisade audit --state prod.json
              palisade audit --state prod.json --json --sarif palisade.sarif

            Exit codes: 0 no findings, 1 findings, 2 bad input.
            """) { state, json, sarif };
        command.SetAction(parse =>
        {
            try
            {
                var findings = Auditor.Run(StateFileOption.Load(parse.GetValue(state)!));
                var output = parse.InvocationConfiguration.Output;
                output.Write(parse.GetValue(json) ? AuditOutput.Json(findings) : AuditOutput.Text(findings));
                if (parse.GetValue(sarif) is { } path)
                {
                    try
                    {
                        File.WriteAllText(path, AuditOutput.Sarif(findings));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new UsageException($"cannot write the SARIF file '{path}': {e.Message}");
                    }
                }
                return findings.Count == 0 ? ExitCodes.Ok : ExitCodes.Findings;
            }
            catch (UsageException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return command;
    }
}
