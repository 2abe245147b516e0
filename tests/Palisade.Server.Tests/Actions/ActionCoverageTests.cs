using Palisade.Server.Actions;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Actions;

/// <summary>Every action the server answers is called by a test (or by the SDK conformance suite for both).</summary>
public sealed class ActionCoverageTests
{
    [Fact]
    public void EveryAction_IsExercisedByATest()
    {
        var root = Golden.RepositoryRoot();
        var tests = string.Concat(Directory.GetFiles(Path.Combine(root, "tests", "Palisade.Server.Tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.EndsWith(nameof(ActionCoverageTests) + ".cs", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var missing = ActionCatalog.FromAssembly().All.Select(a => a.Name).Where(name => !tests.Contains($"\"{name}\"", StringComparison.Ordinal)).Order().ToList();
        Assert.True(missing.Count == 0, $"no test calls: {string.Join(", ", missing)}");
        Assert.Equal(52, ActionCatalog.FromAssembly().All.Count()); // the actions of docs/compat.md
    }
}
