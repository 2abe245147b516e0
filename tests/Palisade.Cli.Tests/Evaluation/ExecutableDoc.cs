using System.Text;
using System.Text.RegularExpressions;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Evaluation;

/// <summary>
/// A document whose worked examples are tests (docs/semantics.md, docs/audit.md): every <c>json state</c>
/// block is a state file, and every <c>$ palisade …</c> line in a <c>console</c> block runs against the
/// latest state above it (with <c>--state</c> added) and must print exactly the lines under it. With
/// PALISADE_BLESS=1 the document is rewritten from the actual output (review the diff).
/// </summary>
public static partial class ExecutableDoc
{
    public static string PathOf(string name) => Path.Combine(Golden.RepositoryRoot(), "docs", name);

    public static TheoryData<string> Sections(string name)
    {
        var data = new TheoryData<string>();
        foreach (var section in Parse(File.ReadAllText(PathOf(name)), name).Select(e => e.Section).Distinct())
            data.Add(section);
        return data;
    }

    public static void AssertSection(string name, string section)
    {
        var examples = Parse(File.ReadAllText(PathOf(name)), name).Where(e => e.Section == section).ToList();
        Assert.NotEmpty(examples);
        if (Golden.Blessing)
            return; // Bless is rewriting the document in this run.
        var failures = new StringBuilder();
        foreach (var example in examples)
        {
            var actual = RunExample(example);
            if (actual != example.Expected)
                failures.Append($"$ palisade {example.Command}\n--- doc says\n{example.Expected}--- palisade prints\n{actual}\n");
        }
        if (failures.Length > 0)
            Assert.Fail($"docs/{name}, section '{section}' (PALISADE_BLESS=1 rewrites the doc):\n{failures}");
    }

    public static void AssertEverySectionHasAnExample(string name)
    {
        var text = File.ReadAllText(PathOf(name));
        var headings = SectionHeading().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var withExamples = Parse(text, name).Select(e => e.Section).ToHashSet();
        Assert.NotEmpty(headings);
        Assert.All(headings, h => Assert.Contains(h, withExamples));
    }

    /// <summary>Rewrites the document's expected outputs from actual runs, when blessing.</summary>
    public static void Bless(string name)
    {
        if (!Golden.Blessing)
            return;
        var path = PathOf(name);
        var lines = File.ReadAllLines(path).ToList();
        var examples = Parse(string.Join('\n', lines) + "\n", name);
        // Replace from the bottom so that earlier line numbers stay valid.
        foreach (var example in examples.OrderByDescending(e => e.CommandLine))
        {
            var actual = RunExample(example).TrimEnd('\n').Split('\n');
            lines.RemoveRange(example.CommandLine + 1, example.ExpectedLineCount);
            lines.InsertRange(example.CommandLine + 1, actual);
        }
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    public static string RunExample(Example example)
    {
        var path = CliTester.StateFile(example.State);
        // A "json usage" block is the file the example's "--usage usage.json" names.
        var usagePath = example.Usage is null ? null : CliTester.StateFile(example.Usage);
        // And a "json flows" block the file its "--flows flows.json" names.
        var flowsPath = example.Flows is null ? null : CliTester.StateFile(example.Flows);
        try
        {
            var args = SplitArgs(example.Command)
                .Select(a => a == "usage.json" && usagePath is not null ? usagePath : a == "flows.json" && flowsPath is not null ? flowsPath : a).ToList();
            args.InsertRange(1, ["--state", path]);
            var outcome = CliTester.Run([.. args]);
            var printed = outcome.Output + outcome.Error;
            return printed.EndsWith('\n') ? printed : printed + "\n";
        }
        finally
        {
            File.Delete(path);
            if (usagePath is not null)
                File.Delete(usagePath);
            if (flowsPath is not null)
                File.Delete(flowsPath);
        }
    }

    public sealed record Example(string Section, string State, string Command, string Expected, int CommandLine, int ExpectedLineCount)
    {
        public string? Usage { get; init; }

        public string? Flows { get; init; }
    }

    public static List<Example> Parse(string markdown, string name = "document")
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var examples = new List<Example>();
        string? section = null;
        string? state = null;
        string? usage = null;
        string? flows = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var heading = SectionHeading().Match(lines[i]);
            if (heading.Success)
            {
                section = heading.Groups[1].Value;
                usage = null;
                flows = null;
                continue;
            }
            if (lines[i].Trim() == "```json usage")
            {
                var sb = new StringBuilder();
                for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
                    sb.Append(lines[i]).Append('\n');
                usage = sb.ToString();
                continue;
            }
            if (lines[i].Trim() == "```json flows")
            {
                var sb = new StringBuilder();
                for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
                    sb.Append(lines[i]).Append('\n');
                flows = sb.ToString();
                continue;
            }
            if (lines[i].Trim() == "```json state")
            {
                var sb = new StringBuilder();
                for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
                    sb.Append(lines[i]).Append('\n');
                state = sb.ToString();
                continue;
            }
            if (lines[i].Trim() != "```console")
                continue;
            for (i++; i < lines.Length && lines[i].Trim() != "```";)
            {
                if (!lines[i].StartsWith("$ palisade ", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{name} line {i + 1}: a console block holds '$ palisade …' lines and their output");
                var commandLine = i;
                var command = lines[i]["$ palisade ".Length..];
                var expected = new StringBuilder();
                var count = 0;
                for (i++; i < lines.Length && lines[i].Trim() != "```" && !lines[i].StartsWith("$ ", StringComparison.Ordinal); i++, count++)
                    expected.Append(lines[i]).Append('\n');
                examples.Add(new Example(
                    section ?? throw new InvalidOperationException($"{name} line {i + 1}: example outside a numbered section"),
                    state ?? throw new InvalidOperationException($"{name} line {i + 1}: example before any state"),
                    command, expected.ToString(), commandLine, count) { Usage = usage, Flows = flows });
            }
        }
        return examples;
    }

    private static IEnumerable<string> SplitArgs(string command) =>
        command.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex(@"^## (\d+\. .+)$", RegexOptions.Multiline)]
    public static partial Regex SectionHeading();
}
