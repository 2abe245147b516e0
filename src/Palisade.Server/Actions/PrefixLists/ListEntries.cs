namespace Palisade.Server.Actions.PrefixLists;

/// <summary>What prefix lists and port-range lists share in ModifyPrefixList / ModifyPortRangeList.</summary>
internal static class ListEntries
{
    /// <summary>
    /// A list's entries after a Modify: the removed ones go, each added one takes the place of the
    /// entry with its key (a block, a range: only its description changes) or comes last.
    /// </summary>
    public static List<TEntry> Merge<TEntry, TKey>(IEnumerable<TEntry> entries, IReadOnlyList<TEntry> add, IReadOnlyList<TEntry> remove, Func<TEntry, TKey> key)
    {
        var same = EqualityComparer<TKey>.Default;
        var merged = entries.Where(e => !remove.Any(r => same.Equals(key(r), key(e)))).ToList();
        foreach (var a in add)
        {
            var at = merged.FindIndex(e => same.Equals(key(e), key(a)));
            if (at >= 0)
                merged[at] = a;
            else
                merged.Add(a);
        }
        return merged;
    }
}
