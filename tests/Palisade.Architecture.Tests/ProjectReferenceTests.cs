using System.Xml.Linq;
using Palisade.TestKit;

namespace Palisade.Architecture.Tests;

/// <summary>
/// The "may depend on" column of ARCHITECTURE.md, enforced on the project files: a reference that
/// is not allowed fails the build's tests, not a code review.
/// </summary>
public sealed class ProjectReferenceTests
{
    private static readonly Dictionary<string, string[]> MayDependOn = new()
    {
        ["Palisade.Domain"] = [],
        ["Palisade.Engine"] = ["Palisade.Domain"],
        ["Palisade.Analysis"] = ["Palisade.Domain", "Palisade.Engine"],
        ["Palisade.AnalysisWorker"] = ["Palisade.Domain", "Palisade.Engine", "Palisade.Analysis"],
        ["Palisade.Storage"] = ["Palisade.Domain"],
        ["Palisade.Server"] = ["Palisade.Domain", "Palisade.Engine", "Palisade.Analysis", "Palisade.AnalysisWorker", "Palisade.Storage"],
        ["Palisade.Client"] = ["Palisade.Domain"],
        ["Palisade.Agent"] = ["Palisade.Domain", "Palisade.Engine", "Palisade.Client"],
        ["Palisade.Cli"] = ["*"],
    };

    /// <summary>Pure projects: no packages, so no I/O library can sneak in.</summary>
    private static readonly string[] WithoutPackages = ["Palisade.Domain"];

    private static string Root => Golden.RepositoryRoot();

    private static IEnumerable<string> SourceProjects() =>
        Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories);

    public static TheoryData<string> SourceProjectNames()
    {
        var data = new TheoryData<string>();
        foreach (var p in SourceProjects())
            data.Add(Path.GetFileNameWithoutExtension(p));
        return data;
    }

    [Theory]
    [MemberData(nameof(SourceProjectNames))]
    public void SourceProject_ReferencesOnlyWhatItMay(string name)
    {
        Assert.True(MayDependOn.TryGetValue(name, out var allowed), $"{name} is not in ARCHITECTURE.md's project table; add it there and here.");
        var references = ProjectReferences(ProjectPath(name));
        if (allowed is ["*"])
            return;
        var forbidden = references.Except(allowed).ToList();
        Assert.True(forbidden.Count == 0, $"{name} may depend on [{string.Join(", ", allowed)}] but references [{string.Join(", ", forbidden)}]");
    }

    [Theory]
    [MemberData(nameof(SourceProjectNames))]
    public void SourceProject_HasItsTestProject(string name) =>
        Assert.True(File.Exists(Path.Combine(Root, "tests", $"{name}.Tests", $"{name}.Tests.csproj")), $"tests/{name}.Tests is missing");

    [Fact]
    public void PureProjects_UseNoPackages()
    {
        foreach (var name in WithoutPackages)
        {
            var packages = XDocument.Load(ProjectPath(name)).Descendants("PackageReference").Select(e => e.Attribute("Include")?.Value).ToList();
            Assert.True(packages.Count == 0, $"{name} must stay pure but references packages [{string.Join(", ", packages)}]");
        }
    }

    [Fact]
    public void EveryProject_IsInTheSolution()
    {
        var solution = File.ReadAllText(Path.Combine(Root, "Palisade.slnx"));
        var projects = Directory.GetFiles(Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}.build{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !p.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'));
        Assert.All(projects, p => Assert.Contains($"\"{p}\"", solution));
    }

    [Fact]
    public void TheRulesCheckSomething()
    {
        // A guard against this test silently passing on an empty tree.
        Assert.Contains("Palisade.Domain", SourceProjects().Select(Path.GetFileNameWithoutExtension));
        Assert.Contains("Palisade.Domain", ProjectReferences(ProjectPath("Palisade.Engine")));
    }

    private static string ProjectPath(string name) => SourceProjects().Single(p => Path.GetFileNameWithoutExtension(p) == name);

    private static List<string> ProjectReferences(string csproj) =>
        XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();
}
