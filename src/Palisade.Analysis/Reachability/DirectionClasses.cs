namespace Palisade.Analysis.Reachability;

/// <summary>
/// One direction of one compiled NIC policy as reachability sees it. For a fixed local address the
/// policy's verdict on a packet depends on the peer address only through which rules' peers contain
/// it and whether inner access names it; so peer addresses fall into classes (cut at every block edge,
/// then intervals that the same rules contain are merged), and local addresses likewise over the rules'
/// local CIDRs. What the direction accepts for a (peer class, local class) is one <see cref="AccessSet"/>,
/// decided by the engine once per port interval between the rules' port boundaries.
/// </summary>
internal sealed class DirectionClasses
{
    private readonly PolicyRules _policy;
    private readonly Direction _direction;
    private readonly int[] _portStarts;
    private readonly UInt128[] _peerStarts;
    private readonly int[] _peerClassOfInterval;
    private readonly List<IpAddress> _peerRepresentatives = [];
    private readonly UInt128[] _localStarts;
    private readonly int[] _localClassOfInterval;
    private readonly List<IpAddress> _localRepresentatives = [];
    private readonly int[] _halves;
    // Half without inner access Accept (RulesOnly), painted on first use: the audit's inner-access check asks it.
    private int[]? _rulesOnly;
    private readonly AccessInterner _interner;
    private readonly RuleRef[] _rules;
    private readonly List<(int Low, int High)>[] _rulePorts;
    private readonly LocalMatch[] _ruleLocal;
    private readonly List<bool[]> _peerMatches = [];
    private readonly List<bool[]> _localMatches = [];
    // For a table patched after a join or a leave (Patched) or a prefix-list edit (PatchedForLists): the
    // table it was patched from and the address ranges (values of this family, increasing, disjoint) cut
    // out of it; everywhere else it answers as that table.
    private readonly DirectionClasses? _patchedFrom;
    private readonly (UInt128 First, UInt128 Last)[] _patchedAt = [];

    private enum LocalMatch : byte
    {
        Always,
        Never,
        WhenInside,
    }

    public DirectionClasses(NetworkState state, PolicyRules policy, Direction direction, bool v6, AccessInterner interner)
    {
        _policy = policy;
        _direction = direction;
        _interner = interner;
        var rules = policy.RulesInOrder(direction);
        var resolver = new RuleResolver(state, policy.Instance);
        _rules = rules;
        _rulePorts = [.. rules.Select(r => resolver.DestinationPorts(r.Rule).Select(p => (p.Low, p.High)).ToList())];
        _ruleLocal = [.. rules.Select(r => r.Rule.LocalCidr is not { } l ? LocalMatch.Always : l.IsV6 == v6 ? LocalMatch.WhenInside : LocalMatch.Never)];

        var cuts = new SortedSet<int> { PortRange.MinPort };
        foreach (var rule in rules)
        {
            foreach (var range in resolver.DestinationPorts(rule.Rule))
            {
                cuts.Add(Math.Max(range.Low, PortRange.MinPort));
                if (range.High < PortRange.MaxPort)
                    cuts.Add(range.High + 1);
            }
        }
        _portStarts = [.. cuts];

        var peers = new List<(int Key, UInt128 First, UInt128 Last)>();
        var locals = new List<(int Key, UInt128 First, UInt128 Last)>();
        for (var i = 0; i < rules.Length; i++)
        {
            foreach (var block in resolver.PeerBlocks(rules[i]).Where(b => b.IsV6 == v6))
                peers.Add((i, block.First, block.Last));
            // A rule whose local CIDR is of the other family never matches; one without matches every local address.
            if (rules[i].Rule.LocalCidr is { } local && local.IsV6 == v6)
                locals.Add((i, local.First, local.Last));
        }
        // Inner access names member addresses: two more keys, after the rules.
        if (policy.NicType == NicType.Intranet)
        {
            foreach (var group in policy.Groups)
            {
                var key = rules.Length + (group.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept ? 0 : 1);
                foreach (var address in resolver.MemberAddresses(group.Id).Where(a => a.IsV6 == v6))
                    peers.Add((key, address.Value, address.Value));
            }
        }
        var max = v6 ? UInt128.MaxValue : uint.MaxValue;
        (_peerStarts, _peerClassOfInterval) = Classify(peers, max, v6, _peerRepresentatives, _peerMatches, rules.Length + 2);
        (_localStarts, _localClassOfInterval) = Classify(locals, max, v6, _localRepresentatives, _localMatches, rules.Length);
        _halves = new int[_peerRepresentatives.Count * _localRepresentatives.Count];
        Array.Fill(_halves, -1);
    }

    /// <summary>A copy of <paramref name="old"/> for another policy with the same rules, over new peer intervals.</summary>
    private DirectionClasses(DirectionClasses old, PolicyRules policy, UInt128[] peerStarts, int[] peerClassOfInterval, List<IpAddress> peerRepresentatives, List<bool[]> peerMatches, (UInt128 First, UInt128 Last)[] patchedAt)
    {
        _patchedFrom = old;
        _patchedAt = patchedAt;
        _policy = policy;
        _direction = old._direction;
        _interner = old._interner;
        _rules = policy.RulesInOrder(old._direction);
        _rulePorts = old._rulePorts;
        _ruleLocal = old._ruleLocal;
        _portStarts = old._portStarts;
        _localStarts = old._localStarts;
        _localClassOfInterval = old._localClassOfInterval;
        _localRepresentatives = old._localRepresentatives;
        _localMatches = old._localMatches;
        _peerStarts = peerStarts;
        _peerClassOfInterval = peerClassOfInterval;
        _peerRepresentatives = peerRepresentatives;
        _peerMatches = peerMatches;
        // The old classes keep their numbers and so their answers; the new ones come after them.
        _halves = new int[peerRepresentatives.Count * _localRepresentatives.Count];
        Array.Fill(_halves, -1);
        Array.Copy(old._halves, _halves, old._halves.Length);
    }

    /// <summary>
    /// This table for <paramref name="after"/>, a state that differs from this table's only in which
    /// groups the instances at <paramref name="moved"/> addresses are in (a join or a leave), for a
    /// NIC whose own groups and rules did not change: only the rules that name a group and inner
    /// access can see a membership, and only at the moved addresses, so each of those addresses is cut
    /// out into an interval of its own whose rule matches are worked out again; every other interval
    /// keeps its class and the answers already painted for it. This table itself when no moved address
    /// matches otherwise (its rules name none of the groups moved in or out of, nor does its inner
    /// access). Null when the rules differ (then the table is compiled afresh). Checked equal to a fresh
    /// compile by a property test.
    /// </summary>
    public DirectionClasses? Patched(NetworkState after, PolicyRules policy, IReadOnlyCollection<IpAddress> moved) =>
        Patched(policy, HoldersOf(after, moved));

    /// <summary>
    /// Which ENIs hold each of <paramref name="addresses"/> in <paramref name="after"/>, with the instance
    /// that owns each: found once per change, since every affected table of a join asks the same.
    /// </summary>
    public static IReadOnlyList<(IpAddress Address, (Instance Owner, Instance Nic)[] Holders)> HoldersOf(NetworkState after, IReadOnlyCollection<IpAddress> addresses)
    {
        var wanted = addresses.Distinct().ToArray();
        var holders = wanted.Select(_ => new List<(Instance Owner, Instance Nic)>()).ToArray();
        foreach (var owner in after.Instances)
        {
            foreach (var nic in owner.Interfaces)
            {
                for (var w = 0; w < wanted.Length; w++)
                {
                    if (nic.MemberAddresses.Contains(wanted[w]))
                        holders[w].Add((owner, nic));
                }
            }
        }
        return [.. wanted.Select((a, w) => (a, holders[w].ToArray()))];
    }

    /// <summary>As <see cref="Patched(NetworkState, PolicyRules, IReadOnlyCollection{IpAddress})"/>, with the moved addresses' holders found once (<see cref="HoldersOf"/>).</summary>
    public DirectionClasses? Patched(PolicyRules policy, IReadOnlyList<(IpAddress Address, (Instance Owner, Instance Nic)[] Holders)> moved)
    {
        if (!SameRules(policy))
            return null;
        var rules = policy.RulesInOrder(_direction);
        var nic = policy.Instance;
        bool SharesNetwork(Instance member) =>
            member.NetworkType == nic.NetworkType && (nic.NetworkType == NetworkType.Classic || member.VpcId == nic.VpcId);
        var v6 = _localRepresentatives[0].IsV6;
        var max = v6 ? UInt128.MaxValue : uint.MaxValue;
        // What the rules and inner access see of a moved address after the change, from its class before.
        bool[] MatchAfter(IpAddress address, (Instance Owner, Instance Nic)[] holdersAnywhere, bool[] before)
        {
            // Which ENIs hold the address after the change, in this NIC's network (a group's members are ENIs).
            var holders = holdersAnywhere.Where(h => SharesNetwork(h.Owner)).Select(h => h.Nic).ToList();
            var match = (bool[])before.Clone();
            for (var r = 0; r < rules.Length; r++)
            {
                if (rules[r].Rule.Peer is RulePeer.Group g)
                    match[r] = holders.Any(h => h.SecurityGroupIds.Contains(g.GroupId));
            }
            if (policy.NicType == NicType.Intranet)
            {
                match[rules.Length] = match[rules.Length + 1] = false;
                foreach (var group in policy.Groups)
                {
                    if (holders.Any(h => h.SecurityGroupIds.Contains(group.Id)))
                        match[rules.Length + (group.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept ? 0 : 1)] = true;
                }
            }
            return match;
        }
        // Where every moved address matches as its class did (no rule of this NIC names a group it moved
        // in or out of, nor does its inner access), the table answers as before: it is this one, and the
        // what-if sees its tables unchanged (no copy of its intervals, no walk).
        if (moved.Where(m => m.Address.IsV6 == v6).All(m =>
                MatchAfter(m.Address, m.Holders, _peerMatches[_peerClassOfInterval[IntervalOf(_peerStarts, m.Address.Value)]])
                    .AsSpan().SequenceEqual(_peerMatches[_peerClassOfInterval[IntervalOf(_peerStarts, m.Address.Value)]])))
            return this;
        var starts = new List<UInt128>(_peerStarts);
        var classOf = new List<int>(_peerClassOfInterval);
        var representatives = new List<IpAddress>(_peerRepresentatives);
        var matches = new List<bool[]>(_peerMatches);
        foreach (var (address, holdersAnywhere) in moved.Where(m => m.Address.IsV6 == v6))
        {
            var found = starts.BinarySearch(address.Value);
            var i = found >= 0 ? found : ~found - 1;
            var match = MatchAfter(address, holdersAnywhere, matches[classOf[i]]);
            var id = representatives.Count;
            representatives.Add(address);
            matches.Add(match);
            // Cut [start, address - 1], [address], [address + 1, next start - 1] out of interval i.
            var old = classOf[i];
            var next = i + 1 < starts.Count ? starts[i + 1] : (UInt128?)null;
            var at = i;
            if (starts[i] < address.Value)
            {
                at = i + 1;
                starts.Insert(at, address.Value);
                classOf.Insert(at, id);
            }
            else
            {
                classOf[at] = id;
            }
            if (address.Value < max && (next is not { } n || address.Value + 1 < n))
            {
                starts.Insert(at + 1, address.Value + 1);
                classOf.Insert(at + 1, old);
            }
        }
        (UInt128, UInt128)[] patchedAt = [.. moved.Where(m => m.Address.IsV6 == v6).Select(m => m.Address.Value).Distinct().Order().Select(v => (v, v))];
        return new DirectionClasses(this, policy, [.. starts], [.. classOf], representatives, matches, patchedAt);
    }

    /// <summary>Whether <paramref name="policy"/> holds this table's rules (the same rule objects, in the same order) and default.</summary>
    private bool SameRules(PolicyRules policy)
    {
        var rules = policy.RulesInOrder(_direction);
        if (rules.Length != _rules.Length || policy.DefaultEgress != _policy.DefaultEgress || policy.NicType != _policy.NicType)
            return false;
        for (var r = 0; r < rules.Length; r++)
        {
            if (!ReferenceEquals(rules[r].Rule, _rules[r].Rule) || rules[r].GroupId != _rules[r].GroupId)
                return false;
        }
        return true;
    }

    /// <summary>
    /// This table after an edit of prefix lists' entries (<paramref name="edit"/>), for a NIC whose rules
    /// did not change (<paramref name="policy"/>, of the state after): a rule's peer test changes only
    /// for a rule naming an edited list, and only inside the address ranges where that list holds an
    /// address after the edit and did not before, or the reverse (<see cref="PrefixListEditRanges"/>).
    /// Those ranges are cut out of the intervals they cross and each piece gets the class of its old
    /// match with the named lists' new answers; every other interval keeps its class and the answers
    /// already painted for it. This table itself when its rules name no list that changes in its address
    /// family; null when the rules differ. Checked equal to a fresh compile by a property test.
    /// </summary>
    public DirectionClasses? PatchedForLists(PolicyRules policy, PrefixListEditRanges edit)
    {
        if (!SameRules(policy))
            return null;
        var v6 = _localRepresentatives[0].IsV6;
        var max = v6 ? UInt128.MaxValue : uint.MaxValue;
        // Each rule's bit among the edited lists (-1: it names none), and the bits any rule names.
        var bits = new int[_rules.Length];
        var named = 0UL;
        for (var r = 0; r < _rules.Length; r++)
        {
            bits[r] = _rules[r].Rule.Peer is RulePeer.PrefixList list ? edit.BitOf(list.PrefixListId) : -1;
            if (bits[r] >= 0)
                named |= 1UL << bits[r];
        }
        var pieces = (v6 ? edit.V6 : edit.V4).Where(p => ((p.Before ^ p.After) & named) != 0).ToArray();
        if (pieces.Length == 0)
            return this;
        var starts = new List<UInt128>(_peerStarts.Length + (2 * pieces.Length));
        var classOf = new List<int>(starts.Capacity);
        var representatives = new List<IpAddress>(_peerRepresentatives);
        var matches = new List<bool[]>(_peerMatches);
        // A piece's class: its old class with the named lists' answers after the edit.
        var patchedClasses = new Dictionary<(int Old, ulong After), int>();
        int i = 0, p = 0;
        var at = UInt128.Zero;
        while (true)
        {
            while (i + 1 < _peerStarts.Length && _peerStarts[i + 1] <= at)
                i++;
            while (p < pieces.Length && pieces[p].Last < at)
                p++;
            var inside = p < pieces.Length && pieces[p].First <= at;
            var end = i + 1 < _peerStarts.Length ? _peerStarts[i + 1] - 1 : max;
            if (inside && pieces[p].Last < end)
                end = pieces[p].Last;
            else if (!inside && p < pieces.Length && pieces[p].First - 1 < end)
                end = pieces[p].First - 1;
            var id = _peerClassOfInterval[i];
            if (inside)
            {
                var after = pieces[p].After & named;
                if (!patchedClasses.TryGetValue((id, after), out var patched))
                {
                    var match = (bool[])_peerMatches[id].Clone();
                    for (var r = 0; r < bits.Length; r++)
                    {
                        if (bits[r] >= 0)
                            match[r] = (after & (1UL << bits[r])) != 0;
                    }
                    patched = representatives.Count;
                    representatives.Add(new IpAddress(v6, at));
                    matches.Add(match);
                    patchedClasses.Add((id, after), patched);
                }
                id = patched;
            }
            if (classOf.Count == 0 || classOf[^1] != id)
            {
                starts.Add(at);
                classOf.Add(id);
            }
            if (end >= max)
                break;
            at = end + 1;
        }
        return new DirectionClasses(this, policy, [.. starts], [.. classOf], representatives, matches, [.. pieces.Select(p => (p.First, p.Last))]);
    }

    public PolicyRules Policy => _policy;

    public int PeerClassCount => _peerRepresentatives.Count;

    public int LocalClassCount => _localRepresentatives.Count;

    public AccessInterner Interner => _interner;

    public int PeerClassOf(IpAddress address) => _peerClassOfInterval[IntervalOf(_peerStarts, address.Value)];

    public int LocalClassOf(IpAddress address) => _localClassOfInterval[IntervalOf(_localStarts, address.Value)];

    /// <summary>The peer class of each of <paramref name="sortedAddresses"/> (in increasing order), by one merge.</summary>
    public void PeerClassesOf(ReadOnlySpan<UInt128> sortedAddresses, Span<int> classes)
    {
        var interval = 0;
        for (var k = 0; k < sortedAddresses.Length; k++)
        {
            while (interval + 1 < _peerStarts.Length && _peerStarts[interval + 1] <= sortedAddresses[k])
                interval++;
            classes[k] = _peerClassOfInterval[interval];
        }
    }

    /// <summary>
    /// The runs of <paramref name="sortedAddresses"/> (increasing) at which <paramref name="after"/>, for a
    /// local address of <paramref name="afterLocal"/>, accepts other than <paramref name="before"/> did
    /// for <paramref name="beforeLocal"/>: each as the index range [From, To) and the new answer. One
    /// walk over both tables' address intervals, jumping over the addresses inside each; runs where the
    /// answers agree (for most changes, nearly all) cost one comparison of two IDs. When
    /// <paramref name="after"/> is <paramref name="before"/> patched after a join or a leave (at the same
    /// local class), only the patched addresses can answer otherwise, and only they are looked at
    /// (<see cref="DifferencesAtPatched"/>): a walk costs as many steps as the tables have intervals, and
    /// a join has hundreds of patched tables of thousands of intervals each.
    /// </summary>
    public static List<(int From, int To, int Now)> Differences(DirectionClasses before, int beforeLocal, DirectionClasses after, int afterLocal, UInt128[] sortedAddresses) =>
        ReferenceEquals(after._patchedFrom, before) && beforeLocal == afterLocal
            ? DifferencesAtPatched(before, after, afterLocal, sortedAddresses)
            : DifferencesByWalk(before, beforeLocal, after, afterLocal, sortedAddresses);

    /// <summary>
    /// <see cref="Differences"/> of a table patched from <paramref name="before"/>: the runs of
    /// <paramref name="sortedAddresses"/> inside each patched range (a moved address, or a range where
    /// an edited list's entries changed), where the answers differ, by a walk of both tables over that
    /// range alone. The patch keeps every other interval's class and the answers of the old classes
    /// (same rules, same local classes), so nothing else can differ; <see cref="DifferencesByWalk"/> is
    /// its slow twin.
    /// </summary>
    private static List<(int From, int To, int Now)> DifferencesAtPatched(DirectionClasses before, DirectionClasses after, int local, UInt128[] sortedAddresses)
    {
        var result = new List<(int, int, int)>();
        foreach (var (first, last) in after._patchedAt)
        {
            var from = LowerBound(sortedAddresses, 0, first);
            var to = last == UInt128.MaxValue ? sortedAddresses.Length : LowerBound(sortedAddresses, from, last + 1);
            if (from < to)
                Walk(before, local, after, local, sortedAddresses, from, to, result);
        }
        return result;
    }

    /// <summary>
    /// <see cref="Differences"/> by one walk over both tables' intervals, for any two tables: the slow
    /// twin of <see cref="DifferencesAtPatched"/>.
    /// </summary>
    internal static List<(int From, int To, int Now)> DifferencesByWalk(DirectionClasses before, int beforeLocal, DirectionClasses after, int afterLocal, UInt128[] sortedAddresses)
    {
        var result = new List<(int, int, int)>();
        if (sortedAddresses.Length > 0)
            Walk(before, beforeLocal, after, afterLocal, sortedAddresses, 0, sortedAddresses.Length, result);
        return result;
    }

    /// <summary>The walk of <see cref="DifferencesByWalk"/> over <paramref name="sortedAddresses"/>[<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static void Walk(DirectionClasses before, int beforeLocal, DirectionClasses after, int afterLocal, UInt128[] sortedAddresses, int from, int to, List<(int, int, int)> result)
    {
        int i = IntervalOf(before._peerStarts, sortedAddresses[from]), j = IntervalOf(after._peerStarts, sortedAddresses[from]), k = from;
        while (k < to)
        {
            var address = sortedAddresses[k];
            while (i + 1 < before._peerStarts.Length && before._peerStarts[i + 1] <= address)
                i++;
            while (j + 1 < after._peerStarts.Length && after._peerStarts[j + 1] <= address)
                j++;
            // The run ends where the first of the two intervals ends.
            var end = to;
            if (i + 1 < before._peerStarts.Length || j + 1 < after._peerStarts.Length)
            {
                var limit = i + 1 < before._peerStarts.Length ? before._peerStarts[i + 1] : UInt128.MaxValue;
                if (j + 1 < after._peerStarts.Length && after._peerStarts[j + 1] < limit)
                    limit = after._peerStarts[j + 1];
                end = LowerBound(sortedAddresses, k, limit, to);
            }
            var now = after.Half(after._peerClassOfInterval[j], afterLocal);
            if (before.Half(before._peerClassOfInterval[i], beforeLocal) != now)
                result.Add((k, end, now));
            k = end;
        }
    }

    /// <summary>The first index at or after <paramref name="from"/> (and before <paramref name="to"/>, the length when -1) whose value is at least <paramref name="value"/>.</summary>
    private static int LowerBound(UInt128[] sorted, int from, UInt128 value, int to = -1)
    {
        int low = from, high = to < 0 ? sorted.Length : to;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (sorted[middle] < value)
                low = middle + 1;
            else
                high = middle;
        }
        return low;
    }

    /// <summary>What this direction accepts between a peer of <paramref name="peerClass"/> and a local address of <paramref name="localClass"/>, as an interned ID.</summary>
    public int Half(int peerClass, int localClass)
    {
        ref var slot = ref _halves[(peerClass * _localRepresentatives.Count) + localClass];
        if (slot < 0)
            slot = _interner.Intern(Paint(peerClass, localClass));
        return slot;
    }

    /// <summary>
    /// What this direction accepts for a (peer class, local class) by its rules alone, as if no group of
    /// the policy had inner access Accept for the peer (the verdict with the peer's inner access Drop or
    /// absent): equal to <see cref="Half"/> where the class is not under inner access Accept. Classes are
    /// merged by every rule's match as well as by inner access, so the rules a class matches are one set.
    /// </summary>
    public int RulesOnly(int peerClass, int localClass)
    {
        _rulesOnly ??= NewHalves(_halves.Length);
        ref var slot = ref _rulesOnly[(peerClass * _localRepresentatives.Count) + localClass];
        if (slot < 0)
            slot = _interner.Intern(Paint(peerClass, localClass, innerAccess: false));
        return slot;
    }

    /// <summary>Whether a peer of this class is a member of some group of the policy with inner access Accept.</summary>
    public bool UnderInnerAccept(int peerClass) => _peerMatches[peerClass][_rules.Length];

    private static int[] NewHalves(int length)
    {
        var halves = new int[length];
        Array.Fill(halves, -1);
        return halves;
    }

    /// <summary>
    /// <see cref="Half"/> by the engine: one <see cref="NicPolicy.Decide"/> per protocol and port
    /// interval. The slow twin of <see cref="Paint"/>.
    /// </summary>
    public AccessSet Decided(int peerClass, int localClass)
    {
        var peer = _peerRepresentatives[peerClass];
        var local = _localRepresentatives[localClass];
        return Decide(packet => Accepts(peer, local, packet));
    }

    /// <summary>
    /// What the direction accepts for one (peer class, local class), without asking the engine packet
    /// by packet: the rules whose peer, local address and source port match are taken in precedence
    /// order, and each decides the port intervals of its protocol that no earlier rule decided; what
    /// is left gets the default (ARCHITECTURE.md semantics 1–3: inner access Accept overrides every
    /// rule; otherwise the first matching rule; otherwise inbound drop, outbound the NIC's default —
    /// inner access Drop changes no verdict, only the explanation). Equal to <see cref="Decided"/>, which
    /// the property test checks on random states.
    /// </summary>
    /// <param name="innerAccess">False for <see cref="RulesOnly"/>: inner access Accept is not taken into account.</param>
    private AccessSet Paint(int peerClass, int localClass, bool innerAccess = true)
    {
        var peer = _peerMatches[peerClass];
        var local = _localMatches[localClass];
        var innerAccept = innerAccess && peer[_rules.Length];
        var fallback = _direction == Direction.Ingress ? Verdict.Drop : _policy.DefaultEgress;
        var spans = new List<int>[Reach.Protocols.Length];
        var verdicts = new sbyte[_portStarts.Length];
        for (var p = 0; p < spans.Length; p++)
        {
            spans[p] = [];
            var protocol = Reach.Protocols[p];
            var hasPorts = protocol.HasPorts();
            var count = hasPorts ? _portStarts.Length : 1;
            if (innerAccept)
            {
                AccessSet.Append(spans[p], hasPorts ? PortRange.MinPort : 0, hasPorts ? PortRange.MaxPort : 0);
                continue;
            }
            Array.Clear(verdicts);
            var open = count;
            var sourcePort = hasPorts ? Flow.DefaultSourcePort : 0;
            for (var r = 0; r < _rules.Length && open > 0; r++)
            {
                var rule = _rules[r].Rule;
                if (!peer[r] || (rule.Protocol != IpProtocol.All && rule.Protocol != protocol))
                    continue;
                if (rule.SourcePorts is { } sp && !sp.Contains(sourcePort))
                    continue;
                if (_ruleLocal[r] == LocalMatch.Never || (_ruleLocal[r] == LocalMatch.WhenInside && !local[r]))
                    continue;
                var verdict = rule.Policy == Verdict.Accept ? (sbyte)1 : (sbyte)2;
                foreach (var (low, high) in _rulePorts[r])
                {
                    if (!hasPorts)
                    {
                        // A packet without ports is port 0 to the rules: only a -1/-1 range holds it.
                        if (low <= 0 && verdicts[0] == 0)
                        {
                            verdicts[0] = verdict;
                            open--;
                        }
                        continue;
                    }
                    // Intervals are cut at every rule's edges, so a range holds an interval iff it holds its start.
                    var i = Array.BinarySearch(_portStarts, Math.Max(low, PortRange.MinPort));
                    if (i < 0)
                        i = ~i;
                    for (; i < count && _portStarts[i] <= high; i++)
                    {
                        if (verdicts[i] == 0)
                        {
                            verdicts[i] = verdict;
                            open--;
                        }
                    }
                }
            }
            for (var i = 0; i < count; i++)
            {
                if (verdicts[i] == 1 || (verdicts[i] == 0 && fallback == Verdict.Accept))
                {
                    var lowPort = hasPorts ? _portStarts[i] : 0;
                    var highPort = !hasPorts ? 0 : i + 1 < count ? _portStarts[i + 1] - 1 : PortRange.MaxPort;
                    AccessSet.Append(spans[p], lowPort, highPort);
                }
            }
        }
        return AccessSet.Create(spans);
    }

    /// <summary>
    /// What this direction accepts between a local address of one of <paramref name="localClasses"/>
    /// and some address of <paramref name="candidates"/> (the internet's classes), with the first such
    /// address in the order <see cref="Reach"/> tries them: its witness.
    /// </summary>
    public (AccessSet Access, IpAddress? Witness) AnyOf(IReadOnlyList<(IpAddress Address, UInt128 Size)> candidates, IReadOnlyList<int> localClasses)
    {
        // The union over the candidates' peer classes and the local classes; the witness is the first
        // candidate accepted (at some local address) on the first (protocol, port) the union holds —
        // the packet Reach tries first.
        var union = AccessInterner.None;
        var classes = new List<(IpAddress Address, int Half)>();
        var seen = new HashSet<int>();
        foreach (var (address, _) in candidates)
        {
            var peerClass = PeerClassOf(address);
            var half = AccessInterner.None;
            foreach (var local in localClasses)
                half = _interner.Union(half, Half(peerClass, local));
            classes.Add((address, half));
            if (seen.Add(half))
                union = _interner.Union(union, half);
        }
        var access = _interner[union];
        if (access.First() is not { } first)
            return (access, null);
        return (access, classes.First(c => _interner[c.Half].Contains(first.Protocol, first.Port)).Address);
    }

    private bool Accepts(IpAddress peer, IpAddress local, (IpProtocol Protocol, int Port) packet)
    {
        var flow = _direction == Direction.Ingress
            ? new Flow(peer, local, packet.Protocol, packet.Port)
            : new Flow(local, peer, packet.Protocol, packet.Port);
        return _policy.Compiled.Decide(_direction, flow).Verdict == Verdict.Accept;
    }

    private AccessSet Decide(Func<(IpProtocol, int), bool> accepts)
    {
        var spans = new List<int>[Reach.Protocols.Length];
        for (var p = 0; p < spans.Length; p++)
        {
            spans[p] = [];
            var protocol = Reach.Protocols[p];
            if (!protocol.HasPorts())
            {
                if (accepts((protocol, 0)))
                    spans[p].AddRange([0, 0]);
                continue;
            }
            for (var i = 0; i < _portStarts.Length; i++)
            {
                var low = _portStarts[i];
                var high = i + 1 < _portStarts.Length ? _portStarts[i + 1] - 1 : PortRange.MaxPort;
                if (accepts((protocol, low)))
                    AccessSet.Append(spans[p], low, high);
            }
        }
        return AccessSet.Create(spans);
    }

    private static int IntervalOf(UInt128[] starts, UInt128 value)
    {
        var at = Array.BinarySearch(starts, value);
        return at >= 0 ? at : ~at - 1;
    }

    /// <summary>
    /// Cuts the address space at every edge of the blocks and numbers the pieces by the set of keys
    /// whose blocks contain them; pieces with the same set share a class, represented by its first address.
    /// </summary>
    private static ulong Mix(int key)
    {
        // SplitMix64's finaliser: distinct keys, well-spread bits.
        var z = ((ulong)key + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    internal static (UInt128[] Starts, int[] Classes) Classify(List<(int Key, UInt128 First, UInt128 Last)> blocks, UInt128 max, bool v6, List<IpAddress> representatives, List<bool[]> matches, int keys)
    {
        var events = new List<(UInt128 At, int Key, int Delta)>(blocks.Count * 2);
        foreach (var (key, first, last) in blocks)
        {
            events.Add((first, key, +1));
            if (last < max)
                events.Add((last + 1, key, -1));
        }
        events.Sort((a, b) => a.At.CompareTo(b.At));
        // The set of keys whose blocks hold the current piece, kept with a hash of it (the XOR of a
        // fixed mix of each key) so that a piece's class is found without spelling the set out; a hash
        // hit is confirmed against the class's own set.
        var counts = new int[keys];
        var inside = 0;
        var hash = 0UL;
        var classes = new Dictionary<ulong, List<int>>();
        var sizes = new List<int>();
        var starts = new List<UInt128>();
        var classOf = new List<int>();
        var current = new bool[keys];
        var e = 0;
        var at = UInt128.Zero;
        while (true)
        {
            while (e < events.Count && events[e].At == at)
            {
                var (_, key, delta) = events[e++];
                var was = counts[key] > 0;
                counts[key] += delta;
                var now = counts[key] > 0;
                if (was != now)
                {
                    hash ^= Mix(key);
                    current[key] = now;
                    inside += now ? 1 : -1;
                }
            }
            var id = -1;
            if (classes.TryGetValue(hash, out var candidates))
            {
                foreach (var candidate in candidates)
                {
                    if (sizes[candidate] == inside && matches[candidate].AsSpan().SequenceEqual(current))
                    {
                        id = candidate;
                        break;
                    }
                }
            }
            if (id < 0)
            {
                id = representatives.Count;
                if (candidates is null)
                    classes.Add(hash, candidates = []);
                candidates.Add(id);
                representatives.Add(new IpAddress(v6, at));
                matches.Add([.. current]);
                sizes.Add(inside);
            }
            starts.Add(at);
            classOf.Add(id);
            if (e >= events.Count)
                break;
            at = events[e].At;
        }
        return ([.. starts], [.. classOf]);
    }
}

/// <summary>Gives equal <see cref="AccessSet"/>s one ID, so that answers are shared and combined by ID.</summary>
internal sealed class AccessInterner
{
    private readonly Dictionary<AccessSet, int> _ids = [];
    private readonly List<AccessSet> _sets = [];
    private readonly Dictionary<long, int> _intersections = [];
    private readonly Dictionary<long, int> _unions = [];

    public AccessInterner() => Intern(AccessSet.None);

    /// <summary>The ID of the empty set.</summary>
    public const int None = 0;

    public int Intern(AccessSet set)
    {
        if (!_ids.TryGetValue(set, out var id))
        {
            id = _sets.Count;
            _sets.Add(set);
            _ids.Add(set, id);
        }
        return id;
    }

    public AccessSet this[int id] => _sets[id];

    public int Intersect(int a, int b)
    {
        if (a == None || b == None)
            return None;
        if (a == b)
            return a;
        var key = ((long)Math.Min(a, b) << 32) | (uint)Math.Max(a, b);
        // The matrix asks this once per pair of endpoint classes (tens of millions of times) about a few
        // thousand distinct pairs of sets: a direct-mapped cache in front of the dictionary.
        ref var recent = ref _recentIntersections[(int)((ulong)(key * -7046029254386353131L) >> (64 - _recentBits))];
        if (recent.Key == key + 1)
            return recent.Id;
        if (!_intersections.TryGetValue(key, out var id))
        {
            id = Intern(_sets[a].Intersect(_sets[b]));
            _intersections.Add(key, id);
            if (_intersections.Count > _recentIntersections.Length / 2 && _recentBits < MaxRecentBits)
            {
                // More distinct pairs than the cache holds well: a larger one, empty (the dictionary keeps every answer).
                _recentBits += 2;
                _recentIntersections = new (long, int)[1 << _recentBits];
                return id;
            }
        }
        recent = (key + 1, id);
        return id;
    }

    // The cache starts at 256 entries (4 KB) and grows by 4× with the distinct pairs asked, up to 16,384
    // (256 KB): a small state's analysis, the common case, never allocates a large-object-heap array
    // (each one, two per dry-run impact, counted towards gen2 collections; docs/benchmarks.md, issue 19).
    private const int MaxRecentBits = 14;
    private int _recentBits = 8;

    // Key + 1, so that the zeroed entry matches no pair.
    private (long Key, int Id)[] _recentIntersections = new (long, int)[1 << 8];

    // The unions' cache starts and grows as the intersections' does.
    private int _recentUnionBits = 8;
    private (long Key, int Id)[] _recentUnions = new (long, int)[1 << 8];

    public int Union(int a, int b)
    {
        if (a == None || a == b)
            return b;
        if (b == None)
            return a;
        var key = ((long)Math.Min(a, b) << 32) | (uint)Math.Max(a, b);
        // The what-if folds an instance pair of several addresses by unions, tens of thousands of pairs
        // per change: the same direct-mapped cache as for intersections.
        ref var recent = ref _recentUnions[(int)((ulong)(key * -7046029254386353131L) >> (64 - _recentUnionBits))];
        if (recent.Key == key + 1)
            return recent.Id;
        if (!_unions.TryGetValue(key, out var id))
        {
            id = Intern(_sets[a].Union(_sets[b]));
            _unions.Add(key, id);
            if (_unions.Count > _recentUnions.Length / 2 && _recentUnionBits < MaxRecentBits)
            {
                _recentUnionBits += 2;
                _recentUnions = new (long, int)[1 << _recentUnionBits];
                return id;
            }
        }
        recent = (key + 1, id);
        return id;
    }
}
