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
    public IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> Parts { get; }

    /// <summary>
    /// Per list (<see cref="StateParts.Lists"/>' order): where each ID of the union stands in <see cref="Texts"/>,
    /// its resource's hash, and each part's IDs' slots (<see cref="ListPlaces"/>). They change in place (a union is
    /// made from the held one, which is used up): a join moves the places after the new IDs and a resource that
    /// came forgets its hash, so neither the union's IDs nor the hashes are copied into new arrays of the whole
    /// list a change (twenty-first session).
    /// </summary>
    private readonly ListPlaces[] _lists;

    /// <summary>Where an ID stands in its list's texts, and its resource's hash once a digest needed it (null until then).</summary>
    private struct Place(int at)
    {
        public int At = at;
        public byte[]? Hash;
    }

    /// <summary>
    /// One list's places, by slot: the dictionary gives an ID's slot once, and slots never move, so a join
    /// moves the places after the new IDs in one pass over <see cref="Places"/> and a part's digest reads its
    /// IDs' places through <see cref="OfPart"/> — neither hashes an ID (issue 17, twenty-second session:
    /// the places were the dictionary's values, and a join looked every ID of the union up again to move
    /// it, ~2,200 string hashes, and a digest every ID of its part, ~2,000: a quarter of the agents'
    /// managed CPU in a 1,000-host join with <c>PartDifference</c>'s check).
    /// </summary>
    private sealed class ListPlaces(Dictionary<string, int> slot, Place[] places, int count, int[][] ofPart)
    {
        /// <summary>Each ID's slot in <see cref="Places"/>.</summary>
        public readonly Dictionary<string, int> Slot = slot;

        /// <summary>The places by slot; the first <see cref="Count"/> in use, the rest room for joins.</summary>
        public Place[] Places = places;

        public int Count = count;

        /// <summary>Per part (<see cref="Parts"/>' order): the slot of each ID of its list, in the list's order (with room for joins past its length).</summary>
        public readonly int[][] OfPart = ofPart;

        /// <summary>The place of <paramref name="id"/>, or a null reference.</summary>
        public ref Place Of(string id)
        {
            if (Slot.TryGetValue(id, out var slot))
                return ref Places[slot];
            return ref Unsafe.NullRef<Place>();
        }
    }

    /// <summary>
    /// Per list: the resources' texts, in the union's order (what <see cref="StateParts.Write"/> writes). In chunks
    /// (<see cref="ChunkedTexts"/>, twenty-third session): a join or a resource that came copies the chunk it
    /// changes, and the next union shares the rest with this one — the whole list's array copied a join was what
    /// a join left alive most, per agent, in a fleet's heap.
    /// </summary>
    public ChunkedTexts[] Texts { get; }

    /// <summary>Whether this union was made from the held one by a join (<see cref="Joined"/>), for tests.</summary>
    internal bool FromJoin { get; private init; }

    /// <summary>Per list, per part: where the IDs that part brings to the union (those no part before it names) begin.</summary>
    private readonly int[][] _starts;

    private HeldUnion(IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> parts, ListPlaces[] lists, ChunkedTexts[] texts, int[][] starts) =>
        (Parts, _lists, Texts, _starts) = (parts, lists, texts, starts);

    private static readonly Dictionary<string, int> ListIndex =
        StateParts.Lists.Select((l, i) => (l.List, i)).ToDictionary(l => l.List, l => l.i, StringComparer.Ordinal);

    /// <summary>An array's length for <paramref name="count"/> entries and room for some joins (an eighth more), so most joins insert in place.</summary>
    private static int Room(int count) => count + count / 8 + 4;

    /// <summary>The text held for a resource of the union, or null.</summary>
    public string? Text(string list, string id)
    {
        if (!ListIndex.TryGetValue(list, out var l))
            return null;
        ref var place = ref _lists[l].Of(id);
        return Unsafe.IsNullRef(ref place) ? null : Texts[l][place.At];
    }

    /// <summary>
    /// The union of <paramref name="parts"/> (distinct, in the NICs' order) with the resources that
    /// <paramref name="came"/> (by list and ID) and, where none came, the texts <paramref name="held"/>
    /// holds (null: nothing held, a first or full fetch). Null when an ID of a part neither came nor is held.
    /// </summary>
    public static HeldUnion? Next(HeldUnion? held, IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> parts,
        IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share)
    {
        if (held is not null && SameLists(held.Parts, parts))
        {
            var texts = (ChunkedTexts[])held.Texts.Clone();
            PutCame(held, came, share, texts);
            return new HeldUnion(parts, held._lists, texts, held._starts);
        }
        if (held is not null && Joined(held, parts, came, share) is { } joined)
            return joined;
        var union = new List<string>[StateParts.Lists.Length];
        var lists = new ListPlaces[StateParts.Lists.Length];
        var starts = new int[StateParts.Lists.Length][];
        for (var l = 0; l < StateParts.Lists.Length; l++)
        {
            var list = StateParts.Lists[l].List;
            var size = held?.Texts[l].Count ?? 0;
            union[l] = new List<string>(size);
            var (slots, places, ofPart) = (new Dictionary<string, int>(size, StringComparer.Ordinal), new Place[Room(size)], new int[parts.Count][]);
            starts[l] = new int[parts.Count];
            for (var p = 0; p < parts.Count; p++)
            {
                var ids = parts[p].GetValueOrDefault(list, ChunkedTexts.Empty);
                starts[l][p] = union[l].Count;
                ofPart[p] = new int[Room(ids.Count)];
                var k = 0;
                foreach (var id in ids)
                {
                    ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(slots, id, out var named);
                    if (!named)
                    {
                        byte[]? hash = null;
                        var text = came.TryGetValue((list, id), out var fresh) ? share(fresh) : held?.TextAndHash(l, id, out hash);
                        if (text is null)
                            return null;
                        if (union[l].Count == places.Length)
                            Array.Resize(ref places, 2 * places.Length);
                        (slot, places[union[l].Count]) = (union[l].Count, new Place(union[l].Count) { Hash = hash });
                        union[l].Add(text);
                    }
                    ofPart[p][k++] = slot;
                }
            }
            lists[l] = new ListPlaces(slots, places, union[l].Count, ofPart);
        }
        return new HeldUnion(parts, lists, [.. union.Select(ChunkedTexts.Of)], starts);
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
    private static HeldUnion? Joined(HeldUnion held, IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> parts,
        IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share)
    {
        if (held.Parts.Count != parts.Count)
            return null;
        // First every check, list by list: (list, part, where in the union, where in the part's list, how many came there).
        var joins = new List<(int List, int Part, int Where, int At, int Added)>(2);
        for (var l = 0; l < StateParts.Lists.Length; l++)
        {
            var list = StateParts.Lists[l].List;
            (int Part, int Start, int Count)? stretch = null;
            for (var p = 0; p < parts.Count; p++)
            {
                var (a, b) = (held.Parts[p].GetValueOrDefault(list, ChunkedTexts.Empty), parts[p].GetValueOrDefault(list, ChunkedTexts.Empty));
                if (ChunkedTexts.SameTexts(a, b))
                    continue;
                // One stretch inserted: the same IDs before it and after it (the chunks a join did not change shared
                // with the held part's list, skipped: twenty-fourth session).
                if (stretch is not null || ChunkedTexts.InsertedStretch(a, b) is not { } inserted)
                    return null;
                stretch = (p, inserted.Start, inserted.Count);
            }
            if (stretch is null)
                continue;
            var (part, at, added) = stretch.Value;
            var ids = parts[part][list];
            var places = held._lists[l];
            // New to the union, each once (against the others that came with it: a few), and its text came.
            for (var k = at; k < at + added; k++)
            {
                if (places.Slot.ContainsKey(ids[k]) || !came.ContainsKey((list, ids[k])) || TwiceIn(ids, at, k))
                    return null;
            }
            // After the last ID this part brought before the stretch (positions it brings rise along its list), or
            // where its IDs begin: the IDs before the stretch are the held part's, their slots beside them.
            var (where, ofPart) = (held._starts[l][part], places.OfPart[part]);
            for (var k = at - 1; k >= 0; k--)
            {
                var place = places.Places[ofPart[k]].At;
                if (place >= held._starts[l][part])
                {
                    where = place + 1;
                    break;
                }
            }
            joins.Add((l, part, where, at, added));
        }
        if (joins.Count == 0)
            return null;
        var (texts, starts) = ((ChunkedTexts[])held.Texts.Clone(), (int[][])held._starts.Clone());
        foreach (var (l, part, where, at, added) in joins)
        {
            var list = StateParts.Lists[l].List;
            var ids = parts[part][list];
            // The places after the new ones move on (in place: the held union is used up): one pass over the
            // slots' places, no ID looked up (twenty-second session: each ID of the dictionary's keys looked up again).
            var places = held._lists[l];
            foreach (ref var place in places.Places.AsSpan(0, places.Count))
            {
                if (place.At >= where)
                    place.At += added;
            }
            if (places.Count + added > places.Places.Length)
                Array.Resize(ref places.Places, Room(places.Count + added));
            // The part's slots: the new ones inserted at the stretch, in place where there is room.
            var (ofPart, heldLength) = (places.OfPart[part], ids.Count - added);
            if (ofPart.Length < ids.Count)
            {
                var grown = new int[Room(ids.Count)];
                ofPart.AsSpan(0, at).CopyTo(grown);
                ofPart.AsSpan(at, heldLength - at).CopyTo(grown.AsSpan(at + added));
                places.OfPart[part] = ofPart = grown;
            }
            else
                ofPart.AsSpan(at, heldLength - at).CopyTo(ofPart.AsSpan(at + added));
            for (var k = 0; k < added; k++)
            {
                var slot = places.Count++;
                places.Places[slot] = new Place(where + k);
                places.Slot.Add(ids[at + k], slot);
                ofPart[at + k] = slot;
            }
            // The texts that came inserted into the chunk where they go, the other chunks shared with the held
            // union's (twenty-third session: the whole list's array, ~9 KiB of ~1,100 texts, made again a join).
            var joinedTexts = new string[added];
            for (var k = 0; k < added; k++)
                joinedTexts[k] = share(came[(list, ids[at + k])]);
            texts[l] = held.Texts[l].Inserted(where, joinedTexts);
            starts[l] = (int[])held._starts[l].Clone();
            for (var p = part + 1; p < starts[l].Length; p++)
                starts[l][p] += added;
        }
        // The other resources that came, in their places.
        PutCame(held, came, share, texts);
        return new HeldUnion(parts, held._lists, texts, starts) { FromJoin = true };
    }

    /// <summary>
    /// The resources that came and the held union lists put in their places (in <paramref name="texts"/>:
    /// the held lists, or new ones where a list changed already), each a new list sharing all but the chunk
    /// it changed (a few that came in a list; more than <see cref="PutOneByOne"/> make the list again from one
    /// array), each hash forgotten with its text (in place: the held union is used up).
    /// </summary>
    private static void PutCame(HeldUnion held, IReadOnlyDictionary<(string List, string Id), string> came, Func<string, string> share, ChunkedTexts[] texts)
    {
        List<(int At, string Text)>?[]? put = null;
        foreach (var ((list, id), text) in came)
        {
            if (!ListIndex.TryGetValue(list, out var l))
                continue;
            ref var place = ref held._lists[l].Of(id);
            if (Unsafe.IsNullRef(ref place))
                continue;
            put ??= new List<(int, string)>?[StateParts.Lists.Length];
            (put[l] ??= []).Add((place.At, share(text)));
            place.Hash = null;
        }
        if (put is null)
            return;
        for (var l = 0; l < put.Length; l++)
        {
            if (put[l] is not { } list)
                continue;
            if (list.Count <= PutOneByOne)
            {
                foreach (var (at, text) in list)
                    texts[l] = texts[l].With(at, text);
                continue;
            }
            var array = texts[l].ToArray();
            foreach (var (at, text) in list)
                array[at] = text;
            texts[l] = ChunkedTexts.Of(array);
        }
    }

    /// <summary>Up to this many resources that came in one list are put one by one (a chunk and the spine copied each); more, into one array made into a list again.</summary>
    internal const int PutOneByOne = 8;

    /// <summary>The text held for a resource of list <paramref name="l"/> and its hash if known, or null.</summary>
    private string? TextAndHash(int l, string id, out byte[]? hash)
    {
        ref var place = ref _lists[l].Of(id);
        if (Unsafe.IsNullRef(ref place))
        {
            hash = null;
            return null;
        }
        hash = place.Hash;
        return Texts[l][place.At];
    }

    /// <summary>
    /// The digest of <paramref name="part"/> (one of <see cref="Parts"/>) over the texts held: what
    /// <see cref="StateParts.Digest"/> computes with <see cref="Text"/>, each resource's place read
    /// through the part's slots and the resources' hashes listed in one go.
    /// </summary>
    public string Digest(IReadOnlyDictionary<string, ChunkedTexts> part)
    {
        // Written straight into the digest's pooled buffer, each hash from the array beside the texts
        // (twentieth session: a pooled list of (kind, ID, hash) enumerated through an interface, and each
        // hash looked up in the texts' weak table, ~2,000 a check); each place through the part's slots
        // (twenty-second session: each ID looked up in the dictionary). A part that is not one of the
        // union's (by reference) is looked up ID by ID: the slow twin, which the tests' digests check too.
        var p = 0;
        while (p < Parts.Count && !ReferenceEquals(Parts[p], part))
            p++;
        var buffer = new PartDigest.Buffer();
        try
        {
            for (var l = 0; l < StateParts.Lists.Length; l++)
            {
                var (places, texts, kind) = (_lists[l], Texts[l], PartDigest.Lists[l].Kind);
                var ids = part.GetValueOrDefault(StateParts.Lists[l].List, ChunkedTexts.Empty);
                var ofPart = p < Parts.Count ? places.OfPart[p] : null;
                var k = 0;
                foreach (var id in ids)
                {
                    ref var place = ref ofPart is null ? ref places.Of(id) : ref places.Places[ofPart[k]];
                    if (Unsafe.IsNullRef(ref place))
                        throw new KeyNotFoundException($"{id} is not in the union");
                    buffer.Add(kind, id, place.Hash ??= StateParts.Hash(texts[place.At]));
                    k++;
                }
            }
            return buffer.Digest();
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>The digest of <paramref name="part"/> with each resource's place looked up by its ID: the slow twin of <see cref="Digest"/>'s read through the part's slots, for tests.</summary>
    internal string DigestLookingUp(IReadOnlyDictionary<string, ChunkedTexts> part) =>
        Digest(part.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal));

    /// <summary>Whether the ID at <paramref name="k"/> of <paramref name="ids"/> stands also from <paramref name="from"/> on before it (the few IDs a join brings, against each other).</summary>
    private static bool TwiceIn(ChunkedTexts ids, int from, int k)
    {
        for (var j = from; j < k; j++)
        {
            if (string.Equals(ids[j], ids[k], StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>Whether two sequences of parts name the same IDs, list by list, in the same order (their union is then the same).</summary>
    private static bool SameLists(IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> before, IReadOnlyList<IReadOnlyDictionary<string, ChunkedTexts>> now)
    {
        if (before.Count != now.Count)
            return false;
        for (var p = 0; p < now.Count; p++)
        {
            if (ReferenceEquals(before[p], now[p]))
                continue;
            foreach (var (list, _) in StateParts.Lists)
            {
                if (!ChunkedTexts.SameTexts(before[p].GetValueOrDefault(list, ChunkedTexts.Empty), now[p].GetValueOrDefault(list, ChunkedTexts.Empty)))
                    return false;
            }
        }
        return true;
    }
}
