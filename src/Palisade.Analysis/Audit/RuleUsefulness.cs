namespace Palisade.Analysis.Audit;

/// <summary>
/// Whether a rule ever decides on a NIC, and whether removing it would change any verdict — exactly,
/// by asking the engine about one packet per class of the rule's own box (its protocols, ports,
/// peers, source ports and the NIC's addresses), cut at every boundary of the NIC's other rules.
/// Within a class every rule either matches all packets or none, so the classes cover all packets
/// the rule matches.
/// </summary>
public static class RuleUsefulness
{
    /// <summary>Boxes larger than this are not enumerated (the rule is then reported as neither shadowed nor redundant).</summary>
    public const int MaxPointsPerRule = 200_000;

    /// <param name="Blockers">Rules that decide where this one matches but does not decide.</param>
    /// <param name="Fallbacks">Rules that would decide in its place where it decides (empty when the default would).</param>
    /// <param name="InnerAccess">Groups whose inner access decides where this rule matches but does not decide.</param>
    public sealed record Verdicts(bool Decides, bool ChangesSomething, IReadOnlyList<RuleRef> Blockers, IReadOnlyList<RuleRef> Fallbacks, bool Checked, IReadOnlyList<SecurityGroupId>? InnerAccess = null);

    private static readonly IpProtocol[] AllProtocols = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All];

    /// <summary>
    /// Every boundary of one direction of a NIC's rules — destination ports, source ports, peer blocks
    /// of each family — worked out once for all the rules of the NIC rather than once per rule.
    /// </summary>
    public sealed class Boundaries
    {
        internal Boundaries(NetworkState state, Instance nic, NicPolicy policy, Direction direction)
        {
            var resolver = new RuleResolver(state, nic);
            var others = policy.RulesInOrder(direction).ToArray();
            Ports = Cuts(others.SelectMany(o => resolver.DestinationPorts(o.Rule)).Select(p => (p.Low, p.High)), PortRange.MaxPort);
            SourcePorts = Cuts(others.Select(o => o.Rule.SourcePorts).OfType<PortRange>().Select(p => (p.Low, p.High)), PortRange.MaxPort);
            var blocks = others.SelectMany(o => resolver.PeerBlocks(o)).ToList();
            PeersV4 = Cuts(blocks.Where(b => !b.IsV6).Select(b => (b.First, b.Last)), (UInt128)uint.MaxValue);
            PeersV6 = Cuts(blocks.Where(b => b.IsV6).Select(b => (b.First, b.Last)), UInt128.MaxValue);

            // Peer classes: the pieces of the address line held by the same rules' peers and the same
            // groups' members (inner access; the engine names the first such group of the policy), as
            // DirectionClasses cuts them. Every packet from (or to) two peers of one class is decided alike.
            var keyed = new List<(int Key, IpAddress First, IpAddress Last)>();
            for (var i = 0; i < others.Length; i++)
                keyed.AddRange(resolver.PeerBlocks(others[i]).Select(b => (i, new IpAddress(b.IsV6, b.First), new IpAddress(b.IsV6, b.Last))));
            var innerGroups = policy.NicType == NicType.Intranet ? policy.Groups : [];
            for (var g = 0; g < innerGroups.Length; g++)
                keyed.AddRange(resolver.MemberAddresses(innerGroups[g].Id).Select(a => (others.Length + g, a, a)));
            ClassesV4 = Reachability.DirectionClasses.Classify([.. keyed.Where(k => !k.First.IsV6).Select(k => (k.Key, k.First.Value, k.Last.Value))],
                uint.MaxValue, false, [], [], others.Length + innerGroups.Length);
            ClassesV6 = Reachability.DirectionClasses.Classify([.. keyed.Where(k => k.First.IsV6).Select(k => (k.Key, k.First.Value, k.Last.Value))],
                UInt128.MaxValue, true, [], [], others.Length + innerGroups.Length);
        }

        private (UInt128[] Starts, int[] Classes) ClassesV4 { get; }

        private (UInt128[] Starts, int[] Classes) ClassesV6 { get; }

        /// <summary>The peer class of an address (numbered per family).</summary>
        internal int PeerClassOf(bool v6, UInt128 value)
        {
            var (starts, classes) = v6 ? ClassesV6 : ClassesV4;
            var at = Array.BinarySearch(starts, value);
            return classes[at >= 0 ? at : ~at - 1];
        }

        internal SortedSet<int> Ports { get; }

        internal SortedSet<int> SourcePorts { get; }

        internal SortedSet<UInt128> PeersV4 { get; }

        internal SortedSet<UInt128> PeersV6 { get; }

        public static Boundaries Of(NetworkState state, Instance nic, NicPolicy policy, Direction direction) => new(state, nic, policy, direction);
    }

    /// <param name="byClass">One peer per peer class of the NIC's direction (<see cref="Boundaries"/>) rather than one per
    /// piece of the rule's peers cut at every boundary: the same verdicts, found once per class. False for the slow twin.</param>
    public static Verdicts Of(NetworkState state, Instance nic, NicPolicy policy, Direction direction, RuleRef rule, Boundaries? boundaries = null, bool byClass = false)
    {
        var resolver = new RuleResolver(state, nic);
        boundaries ??= new Boundaries(state, nic, policy, direction);
        var r = rule.Rule;
        var protocols = r.Protocol == IpProtocol.All ? AllProtocols : [r.Protocol];

        var ports = Points(resolver.DestinationPorts(r).Select(p => (p.Low, p.High)), boundaries.Ports, PortRange.MinPort);
        var sourcePorts = Points([r.SourcePorts is { } sp ? (sp.Low, sp.High) : (PortRange.MinPort, PortRange.MaxPort)], boundaries.SourcePorts, PortRange.MinPort);
        var peerBlocks = resolver.PeerBlocks(rule).ToList();
        var peers = new List<IpAddress>();
        // The limit counts every piece, so that judging by class changes which rules are checked in no way.
        var pieces = 0;
        foreach (var v6 in new[] { false, true })
        {
            var mine = peerBlocks.Where(b => b.IsV6 == v6).Select(b => (b.First, b.Last)).ToList();
            if (mine.Count == 0)
                continue;
            var points = Points(mine, v6 ? boundaries.PeersV6 : boundaries.PeersV4, UInt128.Zero);
            pieces += points.Count;
            // The first peer of each class, in address order: later ones would be decided as it is.
            var seen = new HashSet<int>();
            peers.AddRange(points.Where(v => !byClass || seen.Add(boundaries.PeerClassOf(v6, v))).Select(v => new IpAddress(v6, v)));
        }
        var locals = nic.AddressesOn(policy.NicType).Where(a => r.LocalCidr is not { } l || l.Contains(a)).ToList();

        long size = (long)protocols.Length * ports.Count * sourcePorts.Count * pieces * Math.Max(1, locals.Count);
        if (size > MaxPointsPerRule || peers.Count == 0 || locals.Count == 0)
            return new Verdicts(true, true, [], [], Checked: false);

        var decides = false;
        var changes = false;
        var blockers = new List<RuleRef>();
        var fallbacks = new List<RuleRef>();
        var innerAccess = new List<SecurityGroupId>();
        foreach (var protocol in protocols)
        {
            foreach (var peer in peers)
            {
                foreach (var local in locals.Where(l => l.IsV6 == peer.IsV6))
                {
                    foreach (var port in protocol.HasPorts() ? ports : [0])
                    {
                        foreach (var sourcePort in protocol.HasPorts() ? sourcePorts : [0])
                        {
                            var flow = direction == Direction.Ingress
                                ? new Flow(peer, local, protocol, port, sourcePort)
                                : new Flow(local, peer, protocol, port, sourcePort);
                            var decision = policy.Decide(direction, flow);
                            if (decision.DecidingRule == rule)
                            {
                                decides = true;
                                // Without the rule, the next matching rule decides, or the default.
                                var fallback = decision.Beaten.Length > 0 ? decision.Beaten[0].Rule.Policy : Default(policy, direction);
                                if (fallback != r.Policy)
                                    changes = true;
                                if (decision.Beaten.Length > 0 && !fallbacks.Contains(decision.Beaten[0]))
                                    fallbacks.Add(decision.Beaten[0]);
                            }
                            else if (decision.DecidingRule is { } other && !blockers.Contains(other))
                            {
                                blockers.Add(other);
                            }
                            else if (decision.Reason == DecisionReason.InnerAccess && decision.InnerAccessGroup is { } inner && !innerAccess.Contains(inner))
                            {
                                innerAccess.Add(inner);
                            }
                            if (decides && changes)
                                return new Verdicts(true, true, [], [], true);
                        }
                    }
                }
            }
        }
        return new Verdicts(decides, changes, blockers, fallbacks, true, innerAccess);
    }

    private static Verdict Default(NicPolicy policy, Direction direction) =>
        direction == Direction.Ingress ? Verdict.Drop : policy.DefaultEgress;

    /// <summary>The boundaries of a set of ranges: each start, and each end + 1 below <paramref name="max"/>.</summary>
    private static SortedSet<T> Cuts<T>(IEnumerable<(T Low, T High)> ranges, T max) where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var boundaries = new SortedSet<T>();
        foreach (var (low, high) in ranges)
        {
            boundaries.Add(low);
            if (high < max)
                boundaries.Add(high + T.One);
        }
        return boundaries;
    }

    /// <summary>One point per class: the starts of the pieces of <paramref name="mine"/> cut at every one of <paramref name="boundaries"/>.</summary>
    private static List<T> Points<T>(IEnumerable<(T Low, T High)> mine, SortedSet<T> boundaries, T min) where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var points = new SortedSet<T>();
        foreach (var (low, high) in mine)
        {
            var from = T.Max(low, min);
            if (from > high)
                continue;
            points.Add(from);
            foreach (var b in boundaries.GetViewBetween(from, high))
                points.Add(b);
        }
        return [.. points];
    }
}
