using System.Numerics;

namespace Palisade.Engine.Indexing;

/// <summary>
/// One dimension of a compiled policy (an address family, a port space): the key space cut into
/// elementary intervals at every rule boundary, each interval mapped to the set of rules whose
/// ranges cover it. A lookup is one binary search. Equal rule sets are stored once, so memory
/// grows with the number of distinct sets, not the number of intervals.
/// </summary>
internal sealed class IntervalIndex<T> where T : struct, IBinaryInteger<T>
{
    private readonly T[] _starts;
    private readonly int[] _setOffsets;
    private readonly ulong[] _pool;
    private readonly int _words;

    private IntervalIndex(T[] starts, int[] setOffsets, ulong[] pool, int words)
    {
        _starts = starts;
        _setOffsets = setOffsets;
        _pool = pool;
        _words = words;
    }

    public int IntervalCount => _starts.Length;

    public int DistinctSets => _pool.Length / _words;

    public long EstimatedBytes => (long)_starts.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() + _setOffsets.Length * 4L + _pool.Length * 8L + 96;

    /// <summary>The rules whose ranges contain <paramref name="key"/>.</summary>
    public ReadOnlySpan<ulong> Lookup(T key)
    {
        var starts = _starts;
        int lo = 0, hi = starts.Length - 1;
        // Invariant: starts[0] is the minimum key, so the answer is the last start <= key.
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= key)
                lo = mid;
            else
                hi = mid - 1;
        }
        return new ReadOnlySpan<ulong>(_pool, _setOffsets[lo], _words);
    }

    /// <summary>
    /// Builds the index from inclusive ranges, each owned by a rule (a rule may own several ranges).
    /// <paramref name="max"/> is the largest key of the space; its minimum is zero.
    /// </summary>
    public static IntervalIndex<T> Build(IReadOnlyList<(int Rule, T Low, T High)> ranges, int ruleCount, T max)
    {
        var words = RuleBitset.WordsFor(ruleCount);
        var events = new List<(T At, int Rule, int Delta)>(ranges.Count * 2);
        foreach (var (rule, low, high) in ranges)
        {
            events.Add((low, rule, +1));
            if (high < max)
                events.Add((high + T.One, rule, -1));
        }
        events.Sort((a, b) => a.At.CompareTo(b.At));

        var counters = new int[ruleCount];
        var current = new ulong[words];
        var starts = new List<T>();
        var offsets = new List<int>();
        var pool = new List<ulong>();
        var interned = new Dictionary<int, List<int>>();

        var i = 0;
        var at = T.Zero;
        while (true)
        {
            for (; i < events.Count && events[i].At == at; i++)
            {
                var (_, rule, delta) = events[i];
                var before = counters[rule];
                counters[rule] = before + delta;
                if (before == 0 && delta > 0)
                    RuleBitset.Set(current, rule);
                else if (before == 1 && delta < 0)
                    RuleBitset.Clear(current, rule);
            }
            var offset = Intern(current, pool, interned);
            if (offsets.Count == 0 || offsets[^1] != offset)
            {
                starts.Add(at);
                offsets.Add(offset);
            }
            if (i == events.Count)
                break;
            at = events[i].At;
        }
        return new IntervalIndex<T>([.. starts], [.. offsets], [.. pool], words);
    }

    private static int Intern(ulong[] bits, List<ulong> pool, Dictionary<int, List<int>> interned)
    {
        var hash = RuleBitset.Hash(bits);
        if (interned.TryGetValue(hash, out var candidates))
        {
            foreach (var offset in candidates)
            {
                if (System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pool).Slice(offset, bits.Length).SequenceEqual(bits))
                    return offset;
            }
        }
        else
        {
            candidates = [];
            interned[hash] = candidates;
        }
        var added = pool.Count;
        pool.AddRange(bits);
        candidates.Add(added);
        return added;
    }
}
