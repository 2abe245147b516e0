using Palisade.Domain.State;

namespace Palisade.Agent.Following;

/// <summary>
/// An account's resources on a host as the agent holds them from one fetch to the next (issue 17,
/// eighteenth session): the union of its NICs' parts (<see cref="StateParts.Union"/>) — each list's IDs
/// in the parts' order, where each ID stands, and the resources' texts. A fetch that changes no part's
/// lists (a rule changed, a resource's text) costs what came: the texts are the held ones with the
/// resources that came put in their places, each list a new array only where something in it changed
/// (so a list that did not change is the same array, and the renderer's comparison of the parts'
/// texts finds it at once). A fetch that changes some part's lists makes the union again, with the
/// held texts where nothing came. Before, every fetch rebuilt a dictionary of every resource held
/// (keyed by account, list and ID: ~2,200 entries in a 1,000-host account) and the union from it.
/// The slow twin is that rebuild (<see cref="EcsControlPlane.KeepsResources"/> false); both give the
/// same texts in the same order (<c>HeldUnionTests</c>).
/// </summary>
internal sealed class HeldUnion
{
    /// <summary>The account's distinct parts in the order the NICs name them (the union's order).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string[]>> Parts { get; }

    /// <summary>Per list (<see cref="StateParts.Lists"/>' order): the union's IDs.</summary>
    private readonly string[][] _ids;

    /// <summary>Per list: where each ID stands in <see cref="_ids"/> and <see cref="Texts"/>.</summary>
    private readonly Dictionary<string, int>[] _at;

    /// <summary>Per list: the resources' texts, in the union's order (what <see cref="StateParts.Write"/> writes).</summary>
    public string[][] Texts { get; }

    /// <summary>
    /// Per list: each resource's hash (<see cref="StateParts.Hash"/>) beside its text, null until a digest
    /// needs it, so a check over ~2,000 resources finds each hash in an array rather than in the
    /// texts' weak table (issue 17, twentieth session). A list's array is shared exactly as its texts'
    /// array is, and made again wherever its texts' is.
    /// </summary>
    private readonly byte[]?[][] _hashes;

    /// <summary>Whether this union was made from the held one by a join (<see cref="Joined"/>), for tests.</summary>
    internal bool FromJoin { get; private init; }

    /// <summary>Per list, per part: where the IDs that part brings to the union (those no part before it names) begin.</summary>
    private readonly int[][] _starts;

    private HeldUnion(IReadOnlyList<IReadOnlyDictionary<string, string[]>> parts, string[][] ids, Dictionary<string, int>[] at, string[][] texts, byte[]?[][] hashes, int[][] starts) =>
        (Parts, _ids, _at, Texts, _hashes, _starts) = (parts, ids, at, texts, hashes, starts);

    private static readonly Dictionary<string, int> ListIndex =
        StateParts.Lists.Select((l, i) => (l.List, i)).ToDictionary(l => l.List, l => l.i, StringComparer.Ordinal);

    /// <summary>The text held for a resource of the union, or null.</summary>
    public string? Text(string list, string id) =>
        ListIndex.TryGetValue(list, out var l) && _at[l].TryGetValue(id, out var at) ? Texts[l][at] : null;

    /// <summary>
    /// The union of <paramref name="parts"/> (distinct, in the NICs' order) with the resources that
    /// <paramref name="came"/> (by list and ID) and, where none came, the texts <paramref name="held"/>
    /// holds (null: nothing held, a first or full fetch). Null when an ID of a part neither came nor is held.
    /// </summary>
    public static HeldUnion? Next(HeldUnion? held, IReadOnlyList<IReadOnlyDictionary<string, string[]>> parts,
        IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share)
    {
        if (held is not null && SameLists(held.Parts, parts))
        {
            var (texts, hashes) = ((string[][])held.Texts.Clone(), (byte[]?[][])held._hashes.Clone());
            PutCame(held, came, share, texts, hashes);
            return new HeldUnion(parts, held._ids, held._at, texts, hashes, held._starts);
        }
        if (held is not null && Joined(held, parts, came, share) is { } joined)
            return joined;
        var ids = new List<string>[StateParts.Lists.Length];
        var union = new List<string>[StateParts.Lists.Length];
        var unionHashes = new List<byte[]?>[StateParts.Lists.Length];
        var where = new Dictionary<string, int>[StateParts.Lists.Length];
        var starts = new int[StateParts.Lists.Length][];
        for (var l = 0; l < StateParts.Lists.Length; l++)
        {
            var list = StateParts.Lists[l].List;
            var size = held?._ids[l].Length ?? 0;
            (ids[l], union[l], unionHashes[l], where[l]) = (new List<string>(size), new List<string>(size), new List<byte[]?>(size), new Dictionary<string, int>(size, StringComparer.Ordinal));
            starts[l] = new int[parts.Count];
            for (var p = 0; p < parts.Count; p++)
            {
                var part = parts[p];
                starts[l][p] = ids[l].Count;
                foreach (var id in part.GetValueOrDefault(list, []))
                {
                    if (where[l].ContainsKey(id))
                        continue;
                    byte[]? hash = null;
                    var text = came.TryGetValue((list, id), out var fresh) ? share(fresh) : held?.TextAndHash(l, id, out hash);
                    if (text is null)
                        return null;
                    where[l][id] = ids[l].Count;
                    ids[l].Add(id);
                    union[l].Add(text);
                    unionHashes[l].Add(hash);
                }
            }
        }
        return new HeldUnion(parts, [.. ids.Select(i => i.ToArray())], where, [.. union.Select(u => u.ToArray())], [.. unionHashes.Select(h => h.ToArray())], starts);
    }

    /// <summary>
    /// The union when the parts are the held ones but for IDs new to the union inserted in one stretch of
    /// one part's list, list by list (a join: an instance and its ENI into a part; issue 17, nineteenth
    /// session: the union of ~2,200 IDs was made again, its dictionaries and arrays, for two IDs more),
    /// with the texts that came put in place; null otherwise (an ID gone, one already in the union, two
    /// parts changed, the parts another number), and nothing held is changed then. The new IDs stand in
    /// the union where the rebuild puts them: after the last ID their part brought before them (or where
    /// their part's IDs begin), the IDs after them one place further each. The held union is used up:
    /// its places change in place (the agent never uses a held union again after the next).
    /// </summary>
    private static HeldUnion? Joined(HeldUnion held, IReadOnlyList<IReadOnlyDictionary<string, string[]>> parts,
        IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share)
    {
        if (held.Parts.Count != parts.Count)
            return null;
        // First every check, list by list: (list, part, where in the union, the IDs that came there).
        var joins = new List<(int List, int Part, int At, string[] Added)>();
        for (var l = 0; l < StateParts.Lists.Length; l++)
        {
            var list = StateParts.Lists[l].List;
            (int Part, int Start, int Count)? stretch = null;
            for (var p = 0; p < parts.Count; p++)
            {
                var (a, b) = (held.Parts[p].GetValueOrDefault(list, []), parts[p].GetValueOrDefault(list, []));
                if (ReferenceEquals(a, b) || a.AsSpan().SequenceEqual(b))
                    continue;
                if (stretch is not null || b.Length <= a.Length)
                    return null;
                // One stretch inserted: the same IDs before it and after it.
                var start = 0;
                while (start < a.Length && a[start] == b[start])
                    start++;
                var count = b.Length - a.Length;
                if (!a.AsSpan(start).SequenceEqual(b.AsSpan(start + count)))
                    return null;
                stretch = (p, start, count);
            }
            if (stretch is null)
                continue;
            var (part, at, added) = stretch.Value;
            var ids = parts[part][list];
            var places = held._at[l];
            var fresh = new HashSet<string>(added, StringComparer.Ordinal);
            for (var k = at; k < at + added; k++)
            {
                // New to the union, each once, and its text came.
                if (places.ContainsKey(ids[k]) || !fresh.Add(ids[k]) || !came.ContainsKey((list, ids[k])))
                    return null;
            }
            // After the last ID this part brought before the stretch (positions it brings rise along its list), or where its IDs begin.
            var where = held._starts[l][part];
            for (var k = at - 1; k >= 0; k--)
            {
                var place = places[ids[k]];
                if (place >= held._starts[l][part])
                {
                    where = place + 1;
                    break;
                }
            }
            joins.Add((l, part, where, ids[at..(at + added)]));
        }
        if (joins.Count == 0)
            return null;
        var (allIds, texts, hashes, starts) = ((string[][])held._ids.Clone(), (string[][])held.Texts.Clone(), (byte[]?[][])held._hashes.Clone(), (int[][])held._starts.Clone());
        foreach (var (l, part, where, added) in joins)
        {
            var (ids, places) = (held._ids[l], held._at[l]);
            // The IDs after the new ones move on (in place: the held union is used up).
            for (var k = where; k < ids.Length; k++)
                places[ids[k]] += added.Length;
            for (var k = 0; k < added.Length; k++)
                places[added[k]] = where + k;
            var list = StateParts.Lists[l].List;
            // Each array made once at its length (through a spread of a query, the texts' grew as a list:
            // ~40 KB for a list of 1,000, twice a join; twentieth session).
            allIds[l] = [.. ids.AsSpan(0, where), .. added, .. ids.AsSpan(where)];
            var (heldTexts, heldHashes) = (held.Texts[l], held._hashes[l]);
            var (joinedTexts, joinedHashes) = (new string[heldTexts.Length + added.Length], new byte[]?[heldTexts.Length + added.Length]);
            heldTexts.AsSpan(0, where).CopyTo(joinedTexts);
            heldTexts.AsSpan(where).CopyTo(joinedTexts.AsSpan(where + added.Length));
            heldHashes.AsSpan(0, where).CopyTo(joinedHashes);
            heldHashes.AsSpan(where).CopyTo(joinedHashes.AsSpan(where + added.Length));
            for (var k = 0; k < added.Length; k++)
                joinedTexts[where + k] = share(came[(list, added[k])]);
            (texts[l], hashes[l]) = (joinedTexts, joinedHashes);
            starts[l] = (int[])held._starts[l].Clone();
            for (var p = part + 1; p < starts[l].Length; p++)
                starts[l][p] += added.Length;
        }
        // The other resources that came, in their places.
        PutCame(held, came, share, texts, hashes);
        return new HeldUnion(parts, allIds, held._at, texts, hashes, starts) { FromJoin = true };
    }

    /// <summary>
    /// The resources that came and the held union lists put in their places (in <paramref name="texts"/>,
    /// <paramref name="hashes"/>: the held arrays, or new ones where a list changed already), each list's
    /// arrays copied before its first change, its hash forgotten with its text.
    /// </summary>
    private static void PutCame(HeldUnion held, IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share, string[][] texts, byte[]?[][] hashes)
    {
        foreach (var ((list, id), text) in came)
        {
            if (!ListIndex.TryGetValue(list, out var l) || !held._at[l].TryGetValue(id, out var at))
                continue;
            if (ReferenceEquals(texts[l], held.Texts[l]))
                (texts[l], hashes[l]) = ((string[])held.Texts[l].Clone(), (byte[]?[])held._hashes[l].Clone());
            texts[l][at] = share(text);
            hashes[l][at] = null;
        }
    }

    /// <summary>The text held for a resource of list <paramref name="l"/> and its hash if known, or null.</summary>
    private string? TextAndHash(int l, string id, out byte[]? hash)
    {
        if (!_at[l].TryGetValue(id, out var at))
        {
            hash = null;
            return null;
        }
        hash = _hashes[l][at];
        return Texts[l][at];
    }

    /// <summary>
    /// The digest of <paramref name="part"/> (one of <see cref="Parts"/>) over the texts held: what
    /// <see cref="StateParts.Digest"/> computes with <see cref="Text"/>, each list's place looked up
    /// once and the resources' hashes listed in one go.
    /// </summary>
    public string Digest(IReadOnlyDictionary<string, string[]> part)
    {
        // Written straight into the digest's pooled buffer, each hash from the array beside the texts
        // (twentieth session: a pooled list of (kind, ID, hash) enumerated through an interface, and each
        // hash looked up in the texts' weak table, ~2,000 a check).
        var buffer = new PartDigest.Buffer();
        try
        {
            for (var l = 0; l < StateParts.Lists.Length; l++)
            {
                var (at, texts, hashes, kind) = (_at[l], Texts[l], _hashes[l], PartDigest.Lists[l].Kind);
                foreach (var id in part.GetValueOrDefault(StateParts.Lists[l].List, []))
                {
                    var i = at[id];
                    buffer.Add(kind, id, hashes[i] ??= StateParts.Hash(texts[i]));
                }
            }
            return buffer.Digest();
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>Whether two sequences of parts name the same IDs, list by list, in the same order (their union is then the same).</summary>
    private static bool SameLists(IReadOnlyList<IReadOnlyDictionary<string, string[]>> before, IReadOnlyList<IReadOnlyDictionary<string, string[]>> now)
    {
        if (before.Count != now.Count)
            return false;
        for (var p = 0; p < now.Count; p++)
        {
            if (ReferenceEquals(before[p], now[p]))
                continue;
            foreach (var (list, _) in StateParts.Lists)
            {
                var (a, b) = (before[p].GetValueOrDefault(list, []), now[p].GetValueOrDefault(list, []));
                if (!ReferenceEquals(a, b) && !a.AsSpan().SequenceEqual(b))
                    return false;
            }
        }
        return true;
    }
}
