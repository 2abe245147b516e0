using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    /// <summary>
    /// Per list (<see cref="StateParts.Lists"/>' order): where each ID of the union stands in <see cref="Texts"/>,
    /// and its resource's hash (<see cref="StateParts.Hash"/>), null until a digest needs it, so a check over
    /// ~2,000 resources finds each hash beside its place rather than in the texts' weak table (issue 17,
    /// twentieth session). Both change in place (a union is made from the held one, which is used up):
    /// a join moves the places after the new IDs and a resource that came forgets its hash, so neither the
    /// union's IDs nor the hashes are copied into new arrays of the whole list a change (twenty-first
    /// session: three arrays of ~1,100 a list a join changed, two lists a join).
    /// </summary>
    private readonly Dictionary<string, Place>[] _at;

    /// <summary>Where an ID stands in its list's texts, and its resource's hash once a digest needed it.</summary>
    private struct Place(int at)
    {
        public int At = at;
        public byte[]? Hash;
    }

    /// <summary>Per list: the resources' texts, in the union's order (what <see cref="StateParts.Write"/> writes).</summary>
    public string[][] Texts { get; }

    /// <summary>Whether this union was made from the held one by a join (<see cref="Joined"/>), for tests.</summary>
    internal bool FromJoin { get; private init; }

    /// <summary>Per list, per part: where the IDs that part brings to the union (those no part before it names) begin.</summary>
    private readonly int[][] _starts;

    private HeldUnion(IReadOnlyList<IReadOnlyDictionary<string, string[]>> parts, Dictionary<string, Place>[] at, string[][] texts, int[][] starts) =>
        (Parts, _at, Texts, _starts) = (parts, at, texts, starts);

    private static readonly Dictionary<string, int> ListIndex =
        StateParts.Lists.Select((l, i) => (l.List, i)).ToDictionary(l => l.List, l => l.i, StringComparer.Ordinal);

    /// <summary>The text held for a resource of the union, or null.</summary>
    public string? Text(string list, string id) =>
        ListIndex.TryGetValue(list, out var l) && _at[l].TryGetValue(id, out var at) ? Texts[l][at.At] : null;

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
            var texts = (string[][])held.Texts.Clone();
            PutCame(held, came, share, texts);
            return new HeldUnion(parts, held._at, texts, held._starts);
        }
        if (held is not null && Joined(held, parts, came, share) is { } joined)
            return joined;
        var union = new List<string>[StateParts.Lists.Length];
        var where = new Dictionary<string, Place>[StateParts.Lists.Length];
        var starts = new int[StateParts.Lists.Length][];
        for (var l = 0; l < StateParts.Lists.Length; l++)
        {
            var list = StateParts.Lists[l].List;
            var size = held?.Texts[l].Length ?? 0;
            (union[l], where[l]) = (new List<string>(size), new Dictionary<string, Place>(size, StringComparer.Ordinal));
            starts[l] = new int[parts.Count];
            for (var p = 0; p < parts.Count; p++)
            {
                var part = parts[p];
                starts[l][p] = union[l].Count;
                foreach (var id in part.GetValueOrDefault(list, []))
                {
                    if (where[l].ContainsKey(id))
                        continue;
                    byte[]? hash = null;
                    var text = came.TryGetValue((list, id), out var fresh) ? share(fresh) : held?.TextAndHash(l, id, out hash);
                    if (text is null)
                        return null;
                    where[l][id] = new Place(union[l].Count) { Hash = hash };
                    union[l].Add(text);
                }
            }
        }
        return new HeldUnion(parts, where, [.. union.Select(u => u.ToArray())], starts);
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
                var place = places[ids[k]].At;
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
        var (texts, starts) = ((string[][])held.Texts.Clone(), (int[][])held._starts.Clone());
        foreach (var (l, part, where, added) in joins)
        {
            // The places after the new ones move on (in place: the held union is used up), found by their
            // place, not through a list of the union's IDs (twenty-first session: an array of ~1,100 IDs a
            // list a join, made only for this).
            var places = held._at[l];
            foreach (var id in places.Keys)
            {
                ref var place = ref CollectionsMarshal.GetValueRefOrNullRef(places, id);
                if (place.At >= where)
                    place.At += added.Length;
            }
            for (var k = 0; k < added.Length; k++)
                places[added[k]] = new Place(where + k);
            var list = StateParts.Lists[l].List;
            // The texts made once at their length (through a spread of a query, the texts' grew as a list:
            // ~40 KB for a list of 1,000, twice a join; twentieth session).
            var heldTexts = held.Texts[l];
            var joinedTexts = new string[heldTexts.Length + added.Length];
            heldTexts.AsSpan(0, where).CopyTo(joinedTexts);
            heldTexts.AsSpan(where).CopyTo(joinedTexts.AsSpan(where + added.Length));
            for (var k = 0; k < added.Length; k++)
                joinedTexts[where + k] = share(came[(list, added[k])]);
            texts[l] = joinedTexts;
            starts[l] = (int[])held._starts[l].Clone();
            for (var p = part + 1; p < starts[l].Length; p++)
                starts[l][p] += added.Length;
        }
        // The other resources that came, in their places.
        PutCame(held, came, share, texts);
        return new HeldUnion(parts, held._at, texts, starts) { FromJoin = true };
    }

    /// <summary>
    /// The resources that came and the held union lists put in their places (in <paramref name="texts"/>:
    /// the held arrays, or new ones where a list changed already), each list's array copied before its
    /// first change, each hash forgotten with its text (in place: the held union is used up).
    /// </summary>
    private static void PutCame(HeldUnion held, IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share, string[][] texts)
    {
        foreach (var ((list, id), text) in came)
        {
            if (!ListIndex.TryGetValue(list, out var l))
                continue;
            ref var place = ref CollectionsMarshal.GetValueRefOrNullRef(held._at[l], id);
            if (Unsafe.IsNullRef(ref place))
                continue;
            if (ReferenceEquals(texts[l], held.Texts[l]))
                texts[l] = (string[])held.Texts[l].Clone();
            texts[l][place.At] = share(text);
            place.Hash = null;
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
        hash = at.Hash;
        return Texts[l][at.At];
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
                var (at, texts, kind) = (_at[l], Texts[l], PartDigest.Lists[l].Kind);
                foreach (var id in part.GetValueOrDefault(StateParts.Lists[l].List, []))
                {
                    ref var place = ref CollectionsMarshal.GetValueRefOrNullRef(at, id);
                    if (Unsafe.IsNullRef(ref place))
                        throw new KeyNotFoundException($"{id} is not in the union");
                    buffer.Add(kind, id, place.Hash ??= StateParts.Hash(texts[place.At]));
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
