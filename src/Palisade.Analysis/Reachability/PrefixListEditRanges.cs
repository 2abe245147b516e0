namespace Palisade.Analysis.Reachability;

/// <summary>
/// Where an edit of prefix lists' entries changes which lists hold an address: per address family, the
/// ranges (increasing, disjoint) in which some edited list holds the addresses after the edit and not
/// before, or the reverse, each with the edited lists that hold it before and after (bit
/// <see cref="BitOf"/> of each list). A rule naming a list matches a peer as the list's entries hold
/// it (<c>RuleResolver.PeerBlocks</c>, blocks of the table's family), so outside these ranges no rule's
/// peer test changes (<see cref="DirectionClasses.PatchedForLists"/>).
/// </summary>
internal sealed class PrefixListEditRanges
{
    /// <summary>The most lists one edit may name here (one bit each); an edit of more is compiled afresh.</summary>
    public const int MaxLists = 64;

    private readonly Dictionary<PrefixListId, int> _bits;
    private readonly Cidr[] _changedV4;
    private readonly Cidr[] _changedV6;

    private PrefixListEditRanges(Dictionary<PrefixListId, int> bits, (UInt128, UInt128, ulong, ulong)[] v4, (UInt128, UInt128, ulong, ulong)[] v6, Cidr[] changed)
    {
        _bits = bits;
        _changedV4 = [.. changed.Where(c => !c.IsV6)];
        _changedV6 = [.. changed.Where(c => c.IsV6)];
        V4 = v4;
        V6 = v6;
    }

    public (UInt128 First, UInt128 Last, ulong Before, ulong After)[] V4 { get; }

    public (UInt128 First, UInt128 Last, ulong Before, ulong After)[] V6 { get; }

    /// <summary>
    /// Whether an entry added to or removed from an edited list holds an internet address of the family.
    /// If none does, no answer to the internet changes: the internet's candidate sources are cut at the
    /// rules' block edges and at members' internet addresses, which a list edit does not move (<see cref="Internet.InternetExposure.CandidateSources(NetworkState, Instance, NicType, IReadOnlyList{SecurityGroup}, IReadOnlyList{Engine.Policies.RuleRef}, bool)"/>),
    /// which then differ only outside the internet, and a patched table keeps every class outside the
    /// changed ranges, which lie inside the changed entries.
    /// </summary>
    public bool TouchesInternet(bool v6) => (v6 ? _changedV6 : _changedV4).Any(c => Internet.InternetExposure.HoldsInternet(c.First, c.Last, v6));

    /// <summary>The list's bit in <see cref="V4"/>/<see cref="V6"/>'s masks; -1 for a list the edit does not name.</summary>
    public int BitOf(PrefixListId list) => _bits.TryGetValue(list, out var bit) ? bit : -1;

    /// <summary>The ranges of the edit of <paramref name="lists"/> from <paramref name="before"/> to <paramref name="after"/>; null for more than <see cref="MaxLists"/> lists.</summary>
    public static PrefixListEditRanges? Of(NetworkState before, NetworkState after, IEnumerable<PrefixListId> lists)
    {
        var bits = new Dictionary<PrefixListId, int>();
        foreach (var list in lists)
            bits.TryAdd(list, bits.Count);
        if (bits.Count > MaxLists)
            return null;
        // The entries one state holds and the other does not.
        var changed = bits.Keys.SelectMany(list =>
        {
            var (was, now) = (before.FindPrefixList(list)?.Entries ?? [], after.FindPrefixList(list)?.Entries ?? []);
            return was.Except(now).Concat(now.Except(was));
        }).ToArray();
        return new PrefixListEditRanges(bits, Ranges(before, after, bits, v6: false), Ranges(before, after, bits, v6: true), changed);
    }

    private static (UInt128, UInt128, ulong, ulong)[] Ranges(NetworkState before, NetworkState after, Dictionary<PrefixListId, int> bits, bool v6)
    {
        var max = v6 ? UInt128.MaxValue : uint.MaxValue;
        // Keys: 2 × bit, plus 1 for the state after. A list a state does not hold holds nothing there.
        var events = new List<(UInt128 At, int Key, int Delta)>();
        foreach (var (list, bit) in bits)
        {
            foreach (var (state, side) in new[] { (before, 0), (after, 1) })
            {
                foreach (var block in state.FindPrefixList(list)?.Entries ?? [])
                {
                    if (block.IsV6 != v6)
                        continue;
                    events.Add((block.First, (2 * bit) + side, +1));
                    if (block.Last < max)
                        events.Add((block.Last + 1, (2 * bit) + side, -1));
                }
            }
        }
        events.Sort((a, b) => a.At.CompareTo(b.At));
        var counts = new int[2 * bits.Count];
        var ranges = new List<(UInt128 First, UInt128 Last, ulong Before, ulong After)>();
        var (was, now) = (0UL, 0UL);
        for (var e = 0; e < events.Count;)
        {
            var at = events[e].At;
            for (; e < events.Count && events[e].At == at; e++)
            {
                var (_, key, delta) = events[e];
                counts[key] += delta;
                var mask = 1UL << (key / 2);
                ref var side = ref key % 2 == 0 ? ref was : ref now;
                side = counts[key] > 0 ? side | mask : side & ~mask;
            }
            if (was == now)
                continue;
            var last = e < events.Count ? events[e].At - 1 : max;
            // A range that continues the previous one with the same lists is one range.
            if (ranges.Count > 0 && ranges[^1].Last + 1 == at && ranges[^1].Before == was && ranges[^1].After == now)
                ranges[^1] = (ranges[^1].First, last, was, now);
            else
                ranges.Add((at, last, was, now));
        }
        return [.. ranges];
    }
}
