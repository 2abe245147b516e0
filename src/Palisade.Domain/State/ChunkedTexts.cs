namespace Palisade.Domain.State;

/// <summary>
/// A list of resource texts that a changed copy of shares with it all but the chunk it changed (issue 17,
/// twenty-third session): the agent's held union hands each list's texts on (to the state's read, which
/// compares them with the read before's, and to the rendered parts) and makes a new one for a join, one
/// ID more in a list of ~1,100. As one array, that was a copy of the whole list a join, which outlived the
/// join (it is the held union's): ~17 KiB of the ~62 KiB a 1,000-host join left alive per agent, marked and
/// copied by the next gen1 collection of a fleet's heap. Here a join copies the chunk it inserts into (at
/// most 2 × <see cref="ChunkLength"/> texts) and the chunks' spine (~18 references): the rest is shared. The
/// slow twin is the whole array (<see cref="ToArray"/>; <c>ChunkedTextsTests</c> holds the two to the same
/// texts over many inserts and puts in a row). Immutable: every change returns a new list.
/// </summary>
public sealed class ChunkedTexts : ChunkedList<string, ChunkedTexts>
{
    private ChunkedTexts(string[][] chunks, int[] ends)
        : base(chunks, ends)
    {
    }

    private protected override ChunkedTexts Make(string[][] chunks, int[] ends) => new(chunks, ends);

    public static readonly ChunkedTexts Empty = new([], []);

    /// <summary>The texts of <paramref name="texts"/>, in chunks of <see cref="ChunkedList{T, TSelf}.ChunkLength"/>.</summary>
    public static ChunkedTexts Of(IReadOnlyList<string> texts)
    {
        var (chunks, ends) = Cut(texts, ChunkLength);
        return new ChunkedTexts(chunks, ends);
    }

    /// <summary>
    /// Whether <paramref name="a"/> and <paramref name="b"/> hold the same texts in the same order (ordinally): the
    /// chunks they share at their start and end (<see cref="Common"/>) skipped, the rest compared text by text. What
    /// the agent's comparison of a part's ID lists needs (a list rebuilt from a difference shares the chunks it did
    /// not change with its base).
    /// </summary>
    public static bool SameTexts(ChunkedTexts a, ChunkedTexts b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (a.Count != b.Count)
            return false;
        var (start, end) = Common(a, b);
        for (var k = start; k < a.Count - end; k++)
        {
            if (!string.Equals(a[k], b[k], StringComparison.Ordinal))
                return false;
        }
        return true;
    }

    /// <summary>
    /// Where <paramref name="after"/> is <paramref name="before"/> with one stretch of texts inserted (ordinally: the
    /// same texts before it and after it), the stretch's start and length; null when it is not (as long or shorter,
    /// or other texts changed). Where two stretches would do (texts repeated around it), the one furthest on. The
    /// chunks the two share at their start and end are skipped, the rest compared text by text.
    /// </summary>
    public static (int Start, int Count)? InsertedStretch(ChunkedTexts before, ChunkedTexts after)
    {
        var count = after.Count - before.Count;
        if (count <= 0)
            return null;
        var (start, end) = Common(before, after);
        while (start < before.Count && string.Equals(before[start], after[start], StringComparison.Ordinal))
            start++;
        // The texts after the stretch: before's from start on, after's from start + count on; the last end of them
        // are the same by reference (when end reaches no further back than start).
        for (var k = start; k < before.Count - end; k++)
        {
            if (!string.Equals(before[k], after[k + count], StringComparison.Ordinal))
                return null;
        }
        return (start, count);
    }
}
