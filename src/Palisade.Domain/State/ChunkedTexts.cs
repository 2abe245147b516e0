using System.Collections;

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
public sealed class ChunkedTexts : IReadOnlyList<string>
{
    /// <summary>How many texts a chunk holds when a list is made; a chunk that grows past twice this is cut in two.</summary>
    internal const int ChunkLength = 64;

    private readonly string[][] _chunks;

    /// <summary>Where each chunk ends in the list (exclusive), rising.</summary>
    private readonly int[] _ends;

    private ChunkedTexts(string[][] chunks, int[] ends) => (_chunks, _ends) = (chunks, ends);

    public static readonly ChunkedTexts Empty = new([], []);

    /// <summary>The texts of <paramref name="texts"/>, in chunks of <see cref="ChunkLength"/>.</summary>
    public static ChunkedTexts Of(IReadOnlyList<string> texts)
    {
        var count = (texts.Count + ChunkLength - 1) / ChunkLength;
        var (chunks, ends) = (new string[count][], new int[count]);
        for (var c = 0; c < count; c++)
        {
            var start = c * ChunkLength;
            var chunk = new string[Math.Min(ChunkLength, texts.Count - start)];
            for (var k = 0; k < chunk.Length; k++)
                chunk[k] = texts[start + k];
            (chunks[c], ends[c]) = (chunk, start + chunk.Length);
        }
        return new ChunkedTexts(chunks, ends);
    }

    public int Count => _ends.Length == 0 ? 0 : _ends[^1];

    public string this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index));
            var c = ChunkOf(index);
            return _chunks[c][index - Start(c)];
        }
    }

    private int Start(int c) => c == 0 ? 0 : _ends[c - 1];

    /// <summary>The chunk holding <paramref name="index"/> (less than <see cref="Count"/>): the first whose end is past it.</summary>
    private int ChunkOf(int index)
    {
        var (low, high) = (0, _ends.Length - 1);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (_ends[middle] > index)
                high = middle;
            else
                low = middle + 1;
        }
        return low;
    }

    /// <summary>These texts with <paramref name="text"/> at <paramref name="index"/> in place of the one there: one chunk copied.</summary>
    public ChunkedTexts With(int index, string text)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        var c = ChunkOf(index);
        var chunk = (string[])_chunks[c].Clone();
        chunk[index - Start(c)] = text;
        var chunks = (string[][])_chunks.Clone();
        chunks[c] = chunk;
        return new ChunkedTexts(chunks, _ends);
    }

    /// <summary>
    /// These texts with <paramref name="texts"/> inserted before <paramref name="index"/> (at most <see cref="Count"/>):
    /// the chunk they go into copied with them (cut in two when it grows past twice <see cref="ChunkLength"/>), the
    /// other chunks shared.
    /// </summary>
    public ChunkedTexts Inserted(int index, ReadOnlySpan<string> texts)
    {
        if ((uint)index > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        if (texts.IsEmpty)
            return this;
        if (_chunks.Length == 0)
            return Of(texts.ToArray());
        // At the end: into the last chunk.
        var c = index == Count ? _chunks.Length - 1 : ChunkOf(index);
        var (old, at) = (_chunks[c], index - Start(c));
        var grown = new string[old.Length + texts.Length];
        old.AsSpan(0, at).CopyTo(grown);
        texts.CopyTo(grown.AsSpan(at));
        old.AsSpan(at).CopyTo(grown.AsSpan(at + texts.Length));
        var cut = grown.Length > 2 * ChunkLength;
        var chunks = new string[_chunks.Length + (cut ? 1 : 0)][];
        var ends = new int[chunks.Length];
        _chunks.AsSpan(0, c).CopyTo(chunks);
        _ends.AsSpan(0, c).CopyTo(ends);
        var start = Start(c);
        if (cut)
        {
            var half = grown.Length / 2;
            (chunks[c], ends[c]) = (grown[..half], start + half);
            (chunks[c + 1], ends[c + 1]) = (grown[half..], start + grown.Length);
        }
        else
            (chunks[c], ends[c]) = (grown, start + grown.Length);
        var next = c + (cut ? 2 : 1);
        _chunks.AsSpan(c + 1).CopyTo(chunks.AsSpan(next));
        for (var k = c + 1; k < _ends.Length; k++)
            ends[k - c - 1 + next] = _ends[k] + texts.Length;
        return new ChunkedTexts(chunks, ends);
    }

    /// <summary>The texts as one array: the slow twin.</summary>
    public string[] ToArray()
    {
        var array = new string[Count];
        for (var c = 0; c < _chunks.Length; c++)
            _chunks[c].CopyTo(array, Start(c));
        return array;
    }

    /// <summary>
    /// How many texts <paramref name="a"/> and <paramref name="b"/> share at their start and at their end (the
    /// end's not reaching into the start's), by reference: the chunks they share (a list and those made from it
    /// share them, at the same places counted from the start before the first chunk changed and from the end after
    /// the last) skipped whole, the rest text by text. What <c>StateFileReader.Stretch</c> needs.
    /// </summary>
    public static (int Start, int End) Common(ChunkedTexts a, ChunkedTexts b)
    {
        var most = Math.Min(a.Count, b.Count);
        var start = 0;
        for (var c = 0; c < a._chunks.Length && c < b._chunks.Length && ReferenceEquals(a._chunks[c], b._chunks[c]) && a._ends[c] == b._ends[c]; c++)
            start = a._ends[c];
        while (start < most && ReferenceEquals(a[start], b[start]))
            start++;
        var end = 0;
        for (int ca = a._chunks.Length - 1, cb = b._chunks.Length - 1; ca >= 0 && cb >= 0 && ReferenceEquals(a._chunks[ca], b._chunks[cb]); ca--, cb--)
        {
            if (end + a._chunks[ca].Length > most - start)
                break;
            end += a._chunks[ca].Length;
        }
        while (end < most - start && ReferenceEquals(a[a.Count - 1 - end], b[b.Count - 1 - end]))
            end++;
        return (start, end);
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

    /// <summary>How many chunks the list holds (<see cref="Chunk"/>).</summary>
    internal int ChunkCount => _chunks.Length;

    /// <summary>The texts of chunk <paramref name="c"/>, in order: a walk of the list without an indexer's search per text.</summary>
    internal ReadOnlySpan<string> Chunk(int c) => _chunks[c];

    public IEnumerator<string> GetEnumerator()
    {
        foreach (var chunk in _chunks)
        {
            foreach (var text in chunk)
                yield return text;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
