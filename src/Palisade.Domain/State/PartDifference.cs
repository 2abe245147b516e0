namespace Palisade.Domain.State;

/// <summary>
/// One ID list of a host's part (issue 17) as a difference from the same list of a base part the agent
/// holds: the base's IDs the part no longer has, and the part's IDs the base lacks with their positions
/// in the part's list. The server makes it (<see cref="Between"/>) and the agent applies it
/// (<see cref="Apply"/>); both use these two functions, so the rebuilt list is the server's list in the
/// server's order — the order is not recomputed on the agent, it is carried by the positions. A list
/// whose kept IDs changed their relative order has no such difference (<see cref="Between"/> is null)
/// and is sent whole.
/// </summary>
public static class PartDifference
{
    /// <summary>A list's difference: the base's IDs removed, in the base's order, and the IDs added with their (zero-based, ascending) positions in the part's list.</summary>
    public sealed record Lists(IReadOnlyList<string> Removed, IReadOnlyList<(int Position, string Id)> Added)
    {
        public static readonly Lists None = new([], []);

        /// <summary>How many IDs the difference names (what it costs to send, against the part's list whole).</summary>
        public int Size => Removed.Count + Added.Count;
    }

    /// <summary>
    /// The difference that turns <paramref name="baseIds"/> into <paramref name="ids"/>, or null when
    /// there is none: the IDs both lists hold are not in the same relative order, or a list holds an ID
    /// twice. <see cref="Apply"/> of the result to the base is exactly <paramref name="ids"/>.
    /// </summary>
    public static Lists? Between(IReadOnlyList<string> baseIds, IReadOnlyList<string> ids)
    {
        var inBase = new HashSet<string>(baseIds, StringComparer.Ordinal);
        var inIds = new HashSet<string>(ids, StringComparer.Ordinal);
        if (inBase.Count != baseIds.Count || inIds.Count != ids.Count)
            return null;
        var removed = new List<string>();
        var keptFromBase = new List<string>();
        foreach (var id in baseIds)
        {
            if (inIds.Contains(id))
                keptFromBase.Add(id);
            else
                removed.Add(id);
        }
        var added = new List<(int, string)>();
        var kept = 0;
        for (var position = 0; position < ids.Count; position++)
        {
            var id = ids[position];
            if (!inBase.Contains(id))
                added.Add((position, id));
            else if (!string.Equals(keptFromBase[kept++], id, StringComparison.Ordinal))
                return null;
        }
        return removed.Count == 0 && added.Count == 0 ? Lists.None : new Lists(removed, added);
    }

    /// <summary>
    /// <paramref name="baseIds"/> with <paramref name="difference"/> applied: the base without the
    /// removed IDs (its order kept), each added ID placed at its position. Null when the difference
    /// does not fit the base (an ID removed that the base lacks or names twice, a position out of
    /// order or past the list's end, an ID twice in the result): the agent then holds the wrong base
    /// and must fetch whole.
    /// </summary>
    public static string[]? Apply(IReadOnlyList<string> baseIds, Lists difference)
    {
        // A base this made (its IDs each once, checked then) and an empty difference (every list of a part
        // a rule change rebuilds): the base itself. Otherwise the result's IDs are each once when the base's
        // are and each added one is new to it: checked against the few added, not a set of every ID (issue 17,
        // nineteenth session: two sets of ~1,000 IDs a part rebuilt, ~80 KB, for a rule change or a join).
        var distinctBase = baseIds is string[] array && Distinct.TryGetValue(array, out _);
        if (distinctBase && difference.Removed.Count == 0 && difference.Added.Count == 0)
            return (string[])baseIds;
        if (Applied(baseIds, distinctBase, difference) is not { } result)
            return null;
        Distinct.AddOrUpdate(result, Marker);
        return result;
    }

    /// <summary>Apply's list, written at once; <paramref name="distinctBase"/>: the base's IDs are known to be each once.</summary>
    private static string[]? Applied(IReadOnlyList<string> baseIds, bool distinctBase, Lists difference)
    {
        var removed = difference.Removed.Count == 0 ? null : new HashSet<string>(difference.Removed, StringComparer.Ordinal);
        if (removed is not null && removed.Count != difference.Removed.Count)
            return null;
        // The result written at once, the base's kept IDs between the added ones (twentieth session: the
        // kept IDs were listed first, a list as long as the base, ~8 KB for a list of 1,000). A difference
        // that does not fit leaves a place unfilled or one too many, or an added ID unplaced: null.
        var length = baseIds.Count - difference.Removed.Count + difference.Added.Count;
        if (length < 0)
            return null;
        var result = new string[length];
        var (next, a, found) = (0, 0, 0);
        var added = difference.Added;
        foreach (var id in baseIds)
        {
            if (removed is not null && removed.Contains(id))
            {
                found++;
                continue;
            }
            while (a < added.Count && added[a].Position == next && next < length)
                result[next++] = added[a++].Id;
            if (next >= length)
                return null;
            result[next++] = id;
        }
        while (a < added.Count && added[a].Position == next && next < length)
            result[next++] = added[a++].Id;
        if (found != difference.Removed.Count || next != length || a != added.Count)
            return null;
        if (!(distinctBase ? AddedNew(result, added) : new HashSet<string>(result, StringComparer.Ordinal).Count == result.Length))
            return null;
        return result;
    }

    /// <summary>
    /// <see cref="Apply"/> for a base held in chunks (issue 17, twenty-fourth session): the agent's part lists, held
    /// as the part's base, as the held union's parts and compared by it with the parts before. A join into a base
    /// this made (its IDs each once) with a few IDs added and none removed inserts them into the chunks they go into
    /// (<see cref="ChunkedTexts.Inserted"/>): the chunk and the spine copied, the rest shared with the base — as one
    /// array, the whole list of ~1,000 IDs made again a join outlived it (it is the next base): 16 KiB of the
    /// ~46 KiB a 1,000-host join left alive per agent. Anything else goes through <see cref="Apply"/>'s array (the
    /// slow twin, which <c>PartDifferenceChunkedTests</c> holds this to), chunked afterwards. Null where Apply is.
    /// </summary>
    public static ChunkedTexts? Apply(ChunkedTexts baseIds, Lists difference)
    {
        var distinctBase = DistinctChunked.TryGetValue(baseIds, out _);
        if (distinctBase && difference.Removed.Count == 0 && difference.Added.Count == 0)
            return baseIds;
        if (distinctBase && difference.Removed.Count == 0 && difference.Added.Count <= FewAdded && Inserted(baseIds, difference.Added) is { } inserted)
        {
            DistinctChunked.AddOrUpdate(inserted, Marker);
            return inserted;
        }
        if (Applied(baseIds, distinctBase, difference) is not { } result)
            return null;
        var chunked = ChunkedTexts.Of(result);
        DistinctChunked.AddOrUpdate(chunked, Marker);
        return chunked;
    }

    /// <summary>
    /// <paramref name="baseIds"/> (its IDs each once) with <paramref name="added"/> inserted at their positions, runs of
    /// consecutive positions at once; null when the positions do not rise within the result's length, or an added ID
    /// is twice among them or one of the base's (compared ordinally, no ID hashed: a few against the base's ~1,000).
    /// </summary>
    private static ChunkedTexts? Inserted(ChunkedTexts baseIds, IReadOnlyList<(int Position, string Id)> added)
    {
        var length = baseIds.Count + added.Count;
        for (var a = 0; a < added.Count; a++)
        {
            if (added[a].Position >= length || (a > 0 ? added[a].Position <= added[a - 1].Position : added[a].Position < 0))
                return null;
            for (var b = 0; b < a; b++)
            {
                if (string.Equals(added[a].Id, added[b].Id, StringComparison.Ordinal))
                    return null;
            }
        }
        for (var c = 0; c < baseIds.ChunkCount; c++)
        {
            foreach (var id in baseIds.Chunk(c))
            {
                // By index: an enumerator of the interface is an object a base ID (~80 KiB a join, seen in the bench).
                for (var a = 0; a < added.Count; a++)
                {
                    if (string.Equals(id, added[a].Id, StringComparison.Ordinal))
                        return null;
                }
            }
        }
        // Rising positions, each within the result: inserted in order, each at its position, they stand there.
        var result = baseIds;
        for (var a = 0; a < added.Count;)
        {
            var run = 1;
            while (a + run < added.Count && added[a + run].Position == added[a].Position + run)
                run++;
            var ids = new string[run];
            for (var k = 0; k < run; k++)
                ids[k] = added[a + k].Id;
            result = result.Inserted(added[a].Position, ids);
            a += run;
        }
        return result;
    }

    /// <summary>The chunked lists <see cref="Apply(ChunkedTexts, Lists)"/> made (each ID once in them), while they live.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ChunkedTexts, object> DistinctChunked = new();

    /// <summary>The lists <see cref="Apply"/> made (each ID once in them), while they live.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<string[], object> Distinct = new();

    private static readonly object Marker = new();

    /// <summary>
    /// Whether the added IDs are each once and each stands once in <paramref name="result"/> (none of them is also a
    /// kept ID). A few added (a join: one or two): compared with each other and with the result's IDs ordinally, no
    /// ID hashed (issue 17, twenty-second session: a set of the added IDs and every ID of the ~1,000-ID result hashed
    /// to look it up, for one or two added); more: a set of them (<see cref="AddedNewBySet"/>, the slow twin).
    /// </summary>
    internal static bool AddedNew(string[] result, IReadOnlyList<(int Position, string Id)> added)
    {
        if (added.Count > FewAdded)
            return AddedNewBySet(result, added);
        for (var a = 1; a < added.Count; a++)
        {
            for (var b = 0; b < a; b++)
            {
                if (string.Equals(added[a].Id, added[b].Id, StringComparison.Ordinal))
                    return false;
            }
        }
        // Each added ID stands at its position; the others (the kept IDs) must differ from every added one.
        var from = 0;
        for (var a = 0; a <= added.Count; a++)
        {
            var to = a < added.Count ? added[a].Position : result.Length;
            // (Apply places each added ID at its position, ascending; otherwise, the set.)
            if (a < added.Count && (to < from || to >= result.Length || !ReferenceEquals(result[to], added[a].Id)))
                return AddedNewBySet(result, added);
            for (var k = from; k < to; k++)
            {
                for (var b = 0; b < added.Count; b++)
                {
                    if (string.Equals(result[k], added[b].Id, StringComparison.Ordinal))
                        return false;
                }
            }
            from = to + 1;
        }
        return true;
    }

    /// <summary>How many added IDs <see cref="AddedNew"/> compares one by one with the result's (above, a set).</summary>
    internal const int FewAdded = 4;

    /// <summary><see cref="AddedNew"/> through a set of the added IDs: every ID of the result looked up in it.</summary>
    internal static bool AddedNewBySet(string[] result, IReadOnlyList<(int Position, string Id)> added)
    {
        if (added.Count == 0)
            return true;
        var fresh = new HashSet<string>(added.Count, StringComparer.Ordinal);
        foreach (var (_, id) in added)
        {
            if (!fresh.Add(id))
                return false;
        }
        var seen = 0;
        foreach (var id in result)
        {
            if (fresh.Contains(id))
                seen++;
        }
        return seen == added.Count;
    }
}
