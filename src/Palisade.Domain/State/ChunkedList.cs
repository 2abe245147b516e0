using System.Collections;

namespace Palisade.Domain.State;

/// <summary>
/// An immutable list in chunks that a changed copy of shares with it all but the chunk it changed (issue 17,
/// twenty-third session, <see cref="ChunkedTexts"/>; made generic in the twenty-fifth for the state's
/// instances, <see cref="InstanceChunks"/>): an insert copies the chunk it goes into (cut in two past twice
/// <see cref="ChunkLength"/>) and the chunks' spine, a put the chunk it changes and the spine; every other
/// chunk is shared. The slow twin is the whole array (<see cref="ToArray"/>).
/// </summary>
public abstract class ChunkedList<T, TSelf> : IReadOnlyList<T>
    where T : class
    where TSelf : ChunkedList<T, TSelf>
{
    /// <summary>How many items a chunk holds when a list is made; a chunk that grows past twice this is cut in two.</summary>
    internal const int ChunkLength = 64;

    private readonly T[][] _chunks;

    /// <summary>Where each chunk ends in the list (exclusive), rising.</summary>
    private readonly int[] _ends;

    private protected ChunkedList(T[][] chunks, int[] ends) => (_chunks, _ends) = (chunks, ends);

    /// <summary>A list of the derived type of these chunks.</summary>
    private protected abstract TSelf Make(T[][] chunks, int[] ends);

    /// <summary>The chunks of <paramref name="items"/>, of <paramref name="length"/> items each (the last fewer).</summary>
    private protected static (T[][] Chunks, int[] Ends) Cut(IReadOnlyList<T> items, int length)
    {
        var count = (items.Count + length - 1) / length;
        var (chunks, ends) = (new T[count][], new int[count]);
        for (var c = 0; c < count; c++)
        {
            var start = c * length;
            var chunk = new T[Math.Min(length, items.Count - start)];
            for (var k = 0; k < chunk.Length; k++)
                chunk[k] = items[start + k];
            (chunks[c], ends[c]) = (chunk, start + chunk.Length);
        }
        return (chunks, ends);
    }

    public int Count => _ends.Length == 0 ? 0 : _ends[^1];

    public T this[int index]
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

    /// <summary>These items with <paramref name="item"/> at <paramref name="index"/> in place of the one there: one chunk copied.</summary>
    public TSelf With(int index, T item)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        var c = ChunkOf(index);
        var chunk = (T[])_chunks[c].Clone();
        chunk[index - Start(c)] = item;
        var chunks = (T[][])_chunks.Clone();
        chunks[c] = chunk;
        return Make(chunks, _ends);
    }

    /// <summary>
    /// These items with <paramref name="items"/> inserted before <paramref name="index"/> (at most <see cref="Count"/>):
    /// the chunk they go into copied with them (cut in two when it grows past twice <see cref="ChunkLength"/>), the
    /// other chunks shared.
    /// </summary>
    public TSelf Inserted(int index, ReadOnlySpan<T> items)
    {
        if ((uint)index > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        if (items.IsEmpty)
            return (TSelf)this;
        if (_chunks.Length == 0)
        {
            var (made, madeEnds) = Cut(items.ToArray(), ChunkLength);
            return Make(made, madeEnds);
        }
        // At the end: into the last chunk.
        var c = index == Count ? _chunks.Length - 1 : ChunkOf(index);
        var (old, at) = (_chunks[c], index - Start(c));
        var grown = new T[old.Length + items.Length];
        old.AsSpan(0, at).CopyTo(grown);
        items.CopyTo(grown.AsSpan(at));
        old.AsSpan(at).CopyTo(grown.AsSpan(at + items.Length));
        var cut = grown.Length > 2 * ChunkLength;
        var chunks = new T[_chunks.Length + (cut ? 1 : 0)][];
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
            ends[k - c - 1 + next] = _ends[k] + items.Length;
        return Make(chunks, ends);
    }

    /// <summary>
    /// These items with the <paramref name="removed"/> from <paramref name="index"/> on replaced by
    /// <paramref name="items"/>: as many put in place (<see cref="With"/>), the rest inserted
    /// (<see cref="Inserted"/>) or removed (<see cref="Removed"/>).
    /// </summary>
    public TSelf Spliced(int index, int removed, ReadOnlySpan<T> items)
    {
        if (index < 0 || removed < 0 || index + removed > Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        var list = (TSelf)this;
        var put = Math.Min(removed, items.Length);
        for (var k = 0; k < put; k++)
            list = list.With(index + k, items[k]);
        return removed > put ? list.Removed(index + put, removed - put) : list.Inserted(index + put, items[put..]);
    }

    /// <summary>
    /// These items without the <paramref name="count"/> from <paramref name="index"/> on: the chunks they cut into
    /// copied without them (a chunk left empty dropped), those wholly among them dropped, the others shared.
    /// </summary>
    public TSelf Removed(int index, int count)
    {
        if (index < 0 || count < 0 || index + count > Count)
            throw new ArgumentOutOfRangeException(nameof(index));
        if (count == 0)
            return (TSelf)this;
        var (chunks, ends) = (new List<T[]>(_chunks.Length), new List<int>(_ends.Length));
        for (var c = 0; c < _chunks.Length; c++)
        {
            var (start, end) = (Start(c), _ends[c]);
            if (end <= index || start >= index + count)
            {
                chunks.Add(_chunks[c]);
                ends.Add(start >= index + count ? end - count : end);
                continue;
            }
            var (from, to) = (Math.Max(index, start) - start, Math.Min(index + count, end) - start);
            if (from == 0 && to == _chunks[c].Length)
                continue;
            T[] kept = [.. _chunks[c].AsSpan(0, from), .. _chunks[c].AsSpan(to)];
            chunks.Add(kept);
            ends.Add((ends.Count == 0 ? 0 : ends[^1]) + kept.Length);
        }
        return Make([.. chunks], [.. ends]);
    }

    /// <summary>The items as one array: the slow twin.</summary>
    public T[] ToArray()
    {
        var array = new T[Count];
        for (var c = 0; c < _chunks.Length; c++)
            _chunks[c].CopyTo(array, Start(c));
        return array;
    }

    /// <summary>
    /// How many items <paramref name="a"/> and <paramref name="b"/> share at their start and at their end (the
    /// end's not reaching into the start's), by reference: the chunks they share (a list and those made from it
    /// share them, at the same places counted from the start before the first chunk changed and from the end after
    /// the last) skipped whole, the rest item by item. What <c>StateFileReader.Stretch</c> needs.
    /// </summary>
    public static (int Start, int End) Common(TSelf a, TSelf b)
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

    /// <summary>The chunk holding <paramref name="index"/> (less than <see cref="Count"/>) and where it starts: a walk in order reads a chunk at a time.</summary>
    internal T[] ChunkAt(int index, out int start)
    {
        var c = ChunkOf(index);
        start = Start(c);
        return _chunks[c];
    }

    /// <summary>How many chunks the list holds (<see cref="Chunk"/>).</summary>
    internal int ChunkCount => _chunks.Length;

    /// <summary>The items of chunk <paramref name="c"/>, in order: a walk of the list without an indexer's search per item.</summary>
    internal ReadOnlySpan<T> Chunk(int c) => _chunks[c];

    public IEnumerator<T> GetEnumerator()
    {
        foreach (var chunk in _chunks)
        {
            foreach (var item in chunk)
                yield return item;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
