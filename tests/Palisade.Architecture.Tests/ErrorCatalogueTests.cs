using Palisade.TestKit;

namespace Palisade.Architecture.Tests;

/// <summary>STYLE.md: errors come from one catalogue. No source file outside it makes an EcsError itself.</summary>
public sealed class ErrorCatalogueTests
{
    [Fact]
    public void OnlyTheCatalogue_MakesEcsErrors()
    {
        var root = Golden.RepositoryRoot();
        var catalogue = Path.Combine(root, "src", "Palisade.Domain", "Errors");
        var offenders = Directory.GetFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(catalogue, StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("new EcsError(", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();
        Assert.True(offenders.Count == 0, $"make these errors in src/Palisade.Domain/Errors/EcsErrors*.cs instead: {string.Join(", ", offenders)}");
    }
}
