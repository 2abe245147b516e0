namespace Palisade.Cli.Tests.Evaluation;

/// <summary>
/// docs/semantics.md and docs/audit.md are executable (<see cref="ExecutableDoc"/>): each section's
/// worked examples print what the doc says.
/// </summary>
public sealed class ExecutableDocTests
{
    private static readonly string[] Docs = ["semantics.md", "audit.md"];

    public static TheoryData<string, string> Sections()
    {
        var data = new TheoryData<string, string>();
        foreach (var doc in Docs)
        {
            foreach (var section in ExecutableDoc.Sections(doc))
                data.Add(doc, section);
        }
        return data;
    }

    public static TheoryData<string> Documents() => [.. Docs];

    [Theory]
    [MemberData(nameof(Sections))]
    public void WorkedExample_PrintsWhatTheDocSays(string doc, string section) => ExecutableDoc.AssertSection(doc, section);

    [Theory]
    [MemberData(nameof(Documents))]
    public void Document_HasAWorkedExampleForEverySection(string doc) => ExecutableDoc.AssertEverySectionHasAnExample(doc);

    /// <summary>Rewrites the documents' expected outputs from actual runs; not a test, run by the bless switch.</summary>
    [Theory]
    [MemberData(nameof(Documents))]
    public void Bless_RewritesDocWhenAsked(string doc) => ExecutableDoc.Bless(doc);
}
