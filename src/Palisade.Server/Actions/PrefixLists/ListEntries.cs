namespace Palisade.Server.Actions.PrefixLists;

/// <summary>The entries of prefix lists and port-range lists as their Create and Modify actions take them.</summary>
internal static class ListEntries
{
    /// <summary>The fields of an entry whose key is <paramref name="keyField"/> (<c>Cidr</c>, <c>PortRange</c>): the key, then its description.</summary>
    public static FieldNames Fields(string keyField) => new(keyField, "Description");

    /// <summary>
    /// <c>Name.N.&lt;key&gt;</c> and <c>Name.N.Description</c> (at most the per-call limit of
    /// entries; <paramref name="entryFields"/> from <see cref="Fields"/>): the key is required and parsed
    /// by <paramref name="parse"/> (which refuses a bad one with the list's own error), each key once
    /// (<paramref name="duplicated"/>: the field and the text), an entry's description as
    /// <see cref="PrefixListRequests.EntryDescription"/> judges it.
    /// </summary>
    public static IReadOnlyList<TEntry> Read<TEntry, TKey>(ActionContext c, string name, FieldNames entryFields, bool withDescription,
        Func<string, string, TKey> parse, Func<string, string, EcsError> duplicated, Func<TKey, string, TEntry> entry)
    {
        var keyField = entryFields[0];
        var keys = new List<TKey>();
        var entries = new List<TEntry>();
        foreach (var (index, fields) in c.Parameters.Objects(name, entryFields, c.Limits.ListEntriesPerCall))
        {
            var field = $"{name}.{index}.{keyField}";
            var text = fields.GetValueOrDefault(keyField) is { Length: > 0 } t ? t : throw new EcsException(EcsErrors.Missing(field));
            var key = parse(field, text);
            if (keys.Contains(key))
                throw new EcsException(duplicated(field, text));
            var description = withDescription ? PrefixListRequests.EntryDescription($"{name}.{index}.Description", fields.GetValueOrDefault("Description") is { Length: > 0 } d ? d : null) : "";
            keys.Add(key);
            entries.Add(entry(key, description));
        }
        return entries;
    }

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
