using System.Text.RegularExpressions;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests;

/// <summary>
/// The namespaces of Palisade.Analysis depend on each other without a cycle (issue 14: Audit and
/// Reachability used each other's <c>InternetExposure</c> and <c>PolicyKey</c>): read from the sources'
/// usings and fully qualified names, so that a new cycle fails here.
/// </summary>
public sealed partial class NamespaceTests
{
    [Fact]
    public void AnalysisNamespaces_HaveNoCycle()
    {
        var root = Path.Combine(Golden.RepositoryRoot(), "src", "Palisade.Analysis");
        var edges = new Dictionary<string, HashSet<string>>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            if (NamespaceOf().Match(text) is not { Success: true } own)
                continue;
            var from = Top(own.Groups[1].Value);
            if (!edges.TryGetValue(from, out var targets))
                edges.Add(from, targets = []);
            foreach (Match used in Reference().Matches(text))
            {
                var to = Top(used.Groups[1].Value);
                if (to != from)
                    targets.Add(to);
            }
        }
        Assert.Contains("Audit", edges.Keys);
        Assert.Contains("Reachability", edges.Keys);
        var cycle = FindCycle(edges);
        Assert.True(cycle is null, $"namespace cycle: {string.Join(" → ", cycle ?? [])}");
    }

    [Fact]
    public void TheCycleFinder_FindsACycle()
    {
        var edges = new Dictionary<string, HashSet<string>> { ["Audit"] = ["Reachability"], ["Reachability"] = ["Internet", "Audit"], ["Internet"] = [] };
        Assert.Equal(["Audit", "Reachability", "Audit"], FindCycle(edges));
    }

    /// <summary><c>Palisade.Analysis.Audit.Checks</c> belongs to <c>Audit</c>; the root namespace to "".</summary>
    private static string Top(string suffix) => suffix.Split('.', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";

    private static List<string>? FindCycle(Dictionary<string, HashSet<string>> edges)
    {
        var state = new Dictionary<string, int>();
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node) ?? [])
            {
                if (state.GetValueOrDefault(next) == 1)
                    return [.. path[path.IndexOf(next)..], next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                    return found;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
                return cycle;
        }
        return null;
    }

    [GeneratedRegex(@"^namespace Palisade\.Analysis((?:\.\w+)*);", RegexOptions.Multiline)]
    private static partial Regex NamespaceOf();

    [GeneratedRegex(@"Palisade\.Analysis((?:\.[A-Z]\w*)+)")]
    private static partial Regex Reference();
}
