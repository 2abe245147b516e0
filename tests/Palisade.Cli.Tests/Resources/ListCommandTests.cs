using System.Text;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary>Issue 16: <c>palisade prefix-list …</c>, <c>palisade port-range-list …</c> and rule specs naming them, as a golden transcript.</summary>
public sealed partial class ResourceCommandTests
{
    [Fact]
    public void AListsSession_IsGolden()
    {
        var transcript = new StringBuilder();
        string Run(params string[] args)
        {
            var full = args.Concat(["--server", _url, "--credentials", _credentials]).ToArray();
            var outcome = CliTester.Run(full);
            transcript.Append("$ palisade ").AppendJoin(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a)).Append('\n');
            transcript.Append(outcome.Output).Append(outcome.Error).Append(System.Globalization.CultureInfo.InvariantCulture, $"[exit {outcome.ExitCode}]\n\n");
            return outcome.Output.Trim();
        }

        var vpc = Run("vpc", "create", "--cidr", "192.168.0.0/16", "--name", "prod");
        var pl = Run("prefix-list", "create", "--name", "office", "--max-entries", "10", "--entry", "203.0.113.0/24=hq", "--entry", "198.51.100.7");
        var prl = Run("port-range-list", "create", "--name", "web", "--max-entries", "5", "--entry", "80=http", "--entry", "8000-8010");
        Run("prefix-list", "create", "--name", "v6", "--family", "IPv6", "--max-entries", "1", "--entry", "10.0.0.0/8");
        var web = Run("sg", "create", "--name", "web", "--vpc", vpc);
        Run("sg", "authorize", web, "--rule", $"tcp 443 {pl}", "--rule", $"tcp {prl} 0.0.0.0/0 desc web ports");
        Run("sg", "show", web);
        Run("prefix-list", "list");
        Run("prefix-list", "show", pl);
        Run("prefix-list", "modify", pl, "--add", "192.0.2.0/24=branch", "--remove", "198.51.100.7/32", "--name", "offices");
        Run("prefix-list", "show", pl);
        Run("prefix-list", "delete", pl);
        Run("port-range-list", "modify", prl, "--add", "443=https", "--remove", "80");
        Run("port-range-list", "list");
        Run("port-range-list", "show", prl);
        Run("prefix-list", "show", "pl-bp1doesnotexist000");
        Run("port-range-list", "create", "--name", "big", "--max-entries", "2001");

        Golden.Assert("resources/lists-session.txt", Numbered(transcript.ToString()));
    }

    [Fact]
    public void Help_OfTheListCommands_IsGolden()
    {
        foreach (var command in new[] { "prefix-list", "prefix-list create", "prefix-list modify", "port-range-list", "port-range-list create" })
            Golden.Assert($"help/{command.Replace(' ', '-')}.txt", CliTester.Run([.. command.Split(' '), "--help"]).Output);
    }
}
