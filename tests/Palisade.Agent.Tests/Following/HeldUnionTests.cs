using CsCheck;
using Palisade.Agent.Following;
using Palisade.Domain.State;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// An account's union of parts kept from one fetch to the next and changed by what came (issue 17,
/// eighteenth session: <see cref="HeldUnion"/>) against its slow twin, the form before: every fetch
/// a dictionary of every resource the parts name (what came, else what was held) and the union made
/// from it (<see cref="StateParts.Union"/>). Over random sequences of fetches — parts whose lists
/// change (joins, leaves, reorders) or stay (rule changes: only texts come), resources that come or
/// not, an ID neither come nor held, a full fetch that starts from nothing — the same texts in the
/// same order, the same refusal, and the same part digests.
/// </summary>
public sealed class HeldUnionTests
{
    [Fact]
    public void AUnionKeptAcrossFetches_IsTheUnionRebuiltEachFetch()
    {
        var (kept, rebuilt, refused, joined) = (0, 0, 0, 0);
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var random = new Random(seed);
            HeldUnion? held = null;
            Dictionary<(string List, string Id), string> resources = [];
            List<IReadOnlyDictionary<string, ChunkedTexts>>? parts = null;
            var version = 0;
            for (var fetch = 0; fetch < 8; fetch++)
            {
                var step = parts is null ? 0 : random.Next(3);
                var same = step == 1;
                if (random.Next(10) == 0)
                    (held, resources) = (null, []); // a full fetch (or after a failure): nothing held
                parts = step == 1
                    // The same lists: the same part objects, or copies of them (a part rebuilt from an empty difference).
                    ? [.. parts!.Select(p => random.Next(2) == 0 ? p : p.ToDictionary(l => l.Key, l => ChunkedTexts.Of(l.Value.ToArray())))]
                    // (Nineteenth session) a join: IDs inserted into a part's list or two, mostly new to every part.
                    : step == 2 ? Join(parts!, random, ref version)
                    : [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => Part(random))];
                // What came: the resources whose text changed, and now and then one the parts do not name.
                var came = new Dictionary<(string List, string Id), string>();
                foreach (var (list, ids) in parts.SelectMany(p => p))
                {
                    foreach (var id in ids)
                    {
                        var isHeld = resources.ContainsKey((list, id));
                        if ((!isHeld && random.Next(30) > 0) || random.Next(6) == 0)
                            came[(list, id)] = $"{{\"{list}\":\"{id}\",\"v\":{++version}}}";
                    }
                }
                if (random.Next(4) == 0)
                    came[("Instances", "i-elsewhere")] = $"{{\"v\":{++version}}}";
                // The slow twin: every resource the parts name, from what came or what was held.
                var next = new Dictionary<(string List, string Id), string>();
                var missing = false;
                foreach (var (list, ids) in parts.SelectMany(p => p))
                {
                    foreach (var id in ids)
                    {
                        if (came.TryGetValue((list, id), out var fresh) || resources.TryGetValue((list, id), out fresh))
                            next[(list, id)] = fresh;
                        else
                            missing = true;
                    }
                }
                var keptUnion = HeldUnion.Next(held, parts, came, t => t);
                if (missing)
                {
                    Assert.Null(keptUnion);
                    refused++;
                    (held, resources) = (null, []);
                    continue;
                }
                Assert.NotNull(keptUnion);
                var whole = StateParts.Union(parts, key => next[key]);
                Assert.Equal(whole.Length, keptUnion.Texts.Length);
                for (var l = 0; l < whole.Length; l++)
                    Assert.Equal(whole[l], keptUnion.Texts[l]);
                foreach (var part in parts)
                    Assert.Equal(StateParts.Digest(part, key => next[key]), keptUnion.Digest(part));
                (kept, rebuilt) = same && held is not null ? (kept + 1, rebuilt) : (kept, rebuilt + 1);
                joined += keptUnion.FromJoin ? 1 : 0;
                (held, resources) = (keptUnion, next);
            }
        }, iter: 300);
        // The property is checked above; these say the sequences exercised both ways and the refusal.
        Assert.True(kept > 300 && rebuilt > 300 && refused > 20 && joined > 150, $"{kept} unions kept, {rebuilt} made again ({joined} of them from a join), {refused} refused");
    }

    /// <summary>
    /// (Twenty-second session: places by slot, a join's shift a pass over them, a digest through each part's
    /// slots.) Long runs of joins with no union made again between them — new IDs at the start, the middle and the
    /// end of a part's list, into parts that share IDs with the others, past the room kept for joins — with rule
    /// changes between them (texts of held resources that came: their hashes forgotten) and now and then a change
    /// that is not a join (an ID the union holds already, two parts changed): after every fetch the same texts as
    /// the union rebuilt, every ID's text, and every part's digest the slow one, read through the part's slots and
    /// looked up ID by ID.
    /// </summary>
    [Fact]
    public void AUnionJoinedManyTimesInARow_IsTheUnionRebuilt()
    {
        var (joins, inARow, longest) = (0, 0, 0);
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var random = new Random(seed);
            var version = 0;
            string Text(string list, string id) => $"{{\"{list}\":\"{id}\",\"v\":{++version}}}";
            // Parts drawn from one pool of IDs: they share some.
            // (Twenty-fourth session) now and then lists of several chunks, which a join shares all but one of.
            var (poolSize, most) = random.Next(3) == 0 ? (400, 300) : (40, 25);
            var pool = Enumerable.Range(0, poolSize).Select(i => $"s-{i}").ToArray();
            List<IReadOnlyDictionary<string, ChunkedTexts>> parts = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
                (IReadOnlyDictionary<string, ChunkedTexts>)StateParts.Lists.ToDictionary(l => l.List, l => ChunkedTexts.Of(pool.OrderBy(_ => random.Next()).Take(random.Next(0, most)).ToArray()), StringComparer.Ordinal))];
            var resources = parts.SelectMany(p => p).SelectMany(l => l.Value.Select(id => (l.Key, id))).Distinct().ToDictionary(r => r, r => Text(r.Key, r.id));
            var held = HeldUnion.Next(null, parts, resources, t => t);
            var run = 0;
            for (var fetch = 0; fetch < 30; fetch++)
            {
                var came = new Dictionary<(string List, string Id), string>();
                var step = random.Next(10);
                if (step < 8)
                {
                    // A join: one to three new IDs at one place (start, end or middle) of one or two lists of one part; now and then an
                    // ID some part names already, or a second part changed (not a join).
                    var changed = new List<IReadOnlyDictionary<string, ChunkedTexts>>(parts);
                    for (var n = step == 7 ? 2 : 1; n > 0; n--)
                    {
                        var p = random.Next(changed.Count);
                        var part = changed[p].ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
                        foreach (var (list, _) in StateParts.Lists.OrderBy(_ => random.Next()).Take(random.Next(1, 3)))
                        {
                            var ids = part[list].ToList();
                            var at = random.Next(3) switch { 0 => 0, 1 => ids.Count, _ => random.Next(ids.Count + 1) };
                            var inserted = 0;
                            for (var k = random.Next(1, 4); k > 0; k--)
                            {
                                var id = step == 6 ? pool[random.Next(pool.Length)] : $"j-{++version}";
                                if (!ids.Contains(id))
                                {
                                    ids.Insert(at, id);
                                    inserted++;
                                }
                                came[(list, id)] = Text(list, id);
                            }
                            // The new list sharing the chunks the join did not change with the part's before (as the agent's
                            // rebuilt lists do), or made afresh.
                            part[list] = random.Next(2) == 0 ? part[list].Inserted(at, ids.GetRange(at, inserted).ToArray()) : ChunkedTexts.Of(ids);
                        }
                        changed[p] = part;
                    }
                    parts = changed;
                }
                // Texts of held resources (a rule change; with a join too now and then).
                foreach (var key in resources.Keys.Where(_ => random.Next(step < 8 ? 40 : 8) == 0).ToList())
                    came[key] = Text(key.Item1, key.Item2);
                foreach (var (key, text) in came)
                    resources[key] = text;
                var next = HeldUnion.Next(held, parts, came, t => t);
                Assert.NotNull(next);
                var whole = StateParts.Union(parts, key => resources[key]);
                for (var l = 0; l < whole.Length; l++)
                    Assert.Equal(whole[l], next.Texts[l]);
                foreach (var ((list, id), text) in resources.Where(r => parts.Any(p => p[r.Key.Item1].Contains(r.Key.Item2))))
                    Assert.Equal(text, next.Text(list, id));
                foreach (var part in parts.OrderBy(_ => random.Next()))
                {
                    var digest = StateParts.Digest(part, key => resources[key]);
                    Assert.Equal(digest, next.Digest(part));
                    Assert.Equal(digest, next.DigestLookingUp(part));
                }
                (run, joins) = next.FromJoin ? (run + 1, joins + 1) : (0, joins);
                inARow += run >= 5 ? 1 : 0;
                longest = Math.Max(longest, run);
                held = next;
            }
        }, iter: 200);
        Assert.True(joins > 2000 && inARow > 500 && longest >= 15, $"{joins} joins, {inARow} after at least 5 in a row, {longest} at most in a row");
    }

    /// <summary>A part's digest hashed in one buffer (<see cref="PartDigest.Of"/>) is the digest appended resource by resource (<see cref="PartDigest.OfAppended"/>, the slow twin).</summary>
    [Fact]
    public void APartsDigestInOneBuffer_IsTheDigestAppended()
    {
        var resource = Gen.Select(Gen.Char["gieprx"], Gen.String[Gen.Char.AlphaNumeric.Select(c => c == 'a' ? 'é' : c), 0, 700], Gen.Byte.Array[16]);
        resource.Array[0, 300].Sample(resources => Assert.Equal(PartDigest.OfAppended(resources), PartDigest.Of(resources)));
    }

    /// <summary>
    /// A resource's hash with its text encoded into a stack or pooled buffer (<see cref="PartDigest.ResourceHash(string)"/>,
    /// twentieth session) is the hash of its bytes as an array (<see cref="PartDigest.ResourceHashOfBytes"/>, the slow
    /// twin): texts beyond ASCII, and long ones past the stack buffer.
    /// </summary>
    [Fact]
    public void AResourcesHashInAStackBuffer_IsTheHashOfItsBytes()
    {
        Gen.String[Gen.Char.AlphaNumeric.Select(c => c switch { 'a' => 'é', 'b' => '中', 'c' => '"', _ => c }), 0, 1500]
            .Sample(text => Assert.Equal(PartDigest.ResourceHashOfBytes(text), PartDigest.ResourceHash(text)), iter: 300);
    }

    /// <summary>
    /// <paramref name="parts"/> with IDs inserted at one place of one or two lists of one part: mostly IDs
    /// no part names (a join), now and then one of <see cref="Ids"/> (maybe in the union already); now and
    /// then an ID taken away too, or a second part changed (not a join: the union made again).
    /// </summary>
    private static List<IReadOnlyDictionary<string, ChunkedTexts>> Join(List<IReadOnlyDictionary<string, ChunkedTexts>> parts, Random random, ref int version)
    {
        var joined = new List<IReadOnlyDictionary<string, ChunkedTexts>>(parts);
        for (var n = random.Next(8) == 0 ? 2 : 1; n > 0; n--)
        {
            var p = random.Next(joined.Count);
            var part = joined[p].ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
            foreach (var (list, _) in StateParts.Lists.OrderBy(_ => random.Next()).Take(random.Next(1, 3)))
            {
                var before = part.GetValueOrDefault(list, ChunkedTexts.Empty);
                var ids = before.ToList();
                var (at, inserted) = (random.Next(ids.Count + 1), random.Next(1, 3));
                for (var k = inserted; k > 0; k--)
                    ids.Insert(at, random.Next(6) == 0 ? Ids[random.Next(Ids.Length)] : $"y-{++version}");
                var removed = random.Next(8) == 0 && ids.Count > 1;
                if (removed)
                    ids.RemoveAt(random.Next(ids.Count));
                if (ids.Distinct().Count() == ids.Count)
                    part[list] = !removed && random.Next(2) == 0 ? before.Inserted(at, ids.GetRange(at, inserted).ToArray()) : ChunkedTexts.Of(ids);
            }
            joined[p] = part;
        }
        return joined;
    }

    private static readonly string[] Ids = [.. Enumerable.Range(0, 12).Select(i => $"x-{i}")];

    /// <summary>A random part: per list a few distinct IDs in random order (some lists absent).</summary>
    private static Dictionary<string, ChunkedTexts> Part(Random random) =>
        StateParts.Lists.Where(_ => random.Next(4) > 0)
            .ToDictionary(l => l.List, l => ChunkedTexts.Of(Ids.OrderBy(_ => random.Next()).Take(random.Next(0, 6)).ToArray()), StringComparer.Ordinal);
}
