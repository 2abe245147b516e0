namespace Palisade.Cli.Tests.Evaluation;

/// <summary>docs/semantics.md is executable (<see cref="ExecutableDoc"/>): each section's worked examples print what the doc says.</summary>
public sealed class SemanticsDocTests
{
    private const string Doc = "semantics.md";

    public static TheoryData<string> Sections() => ExecutableDoc.Sections(Doc);

    [Theory]
    [MemberData(nameof(Sections))]
    public void WorkedExample_PrintsWhatTheDocSays(string section) => ExecutableDoc.AssertSection(Doc, section);

    [Fact]
    public void Document_HasAWorkedExampleForEverySection() => ExecutableDoc.AssertEverySectionHasAnExample(Doc);

    /// <summary>Rewrites the document's expected outputs from actual runs; not a test, run by the bless switch.</summary>
    [Fact]
    public void Bless_RewritesDocWhenAsked() => ExecutableDoc.Bless(Doc);
}
