namespace Palisade.Analysis.Audit.Checks;

public sealed record SamePriorityConflictEvidence(SecurityGroupRuleId AcceptRule, SecurityGroupRuleId DropRule, SecurityGroupId DropGroup, int Priority) : Evidence;

/// <summary>
/// An accept and a drop rule of one NIC at the same priority that both match some packet on that NIC
/// — decided exactly (docs/audit.md): the protocols meet (<c>ALL</c> meets every protocol), and for
/// some protocol the destination ports (ranges or port-range-list entries) and source ports meet, and
/// for some address family the peers meet (blocks, prefix-list entries, the private addresses of a
/// group's members in the NIC's network) while some address of the NIC lies in both rules' local CIDRs.
/// </summary>
internal static class SamePriorityConflict
{
    public static readonly CheckInfo Info = new("same-priority-conflict", Severity.Medium,
        "Overlapping accept and drop rules share a priority",
        "At equal priority drop wins, which is easy to misread. Give the intended winner a lower priority number.",
        [typeof(SamePriorityConflictEvidence)]);

    /// <summary>The protocols a flow can carry: in a flow, <see cref="IpProtocol.All"/> stands for one no rule names but <c>ALL</c>.</summary>
    private static readonly IpProtocol[] FlowProtocols = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All];

    public static void Run(AuditRun run)
    {
        run.Progress?.Report(new WorkProgress("overlapping rules", 0, 0));
        var seen = new HashSet<(SecurityGroupRuleId, SecurityGroupRuleId)>();
        // NICs with the same policy and the same local-CIDR signature of their addresses see the same overlaps.
        var judged = new HashSet<string>();
        foreach (var instance in run.State.Instances.SelectMany(i => i.Interfaces).Where(i => i.SecurityGroupIds.Length > 0))
        {
            NicType[] nics = instance.NetworkType == NetworkType.Classic ? [NicType.Intranet, NicType.Internet] : [NicType.Intranet];
            foreach (var nic in nics)
            {
                if (!judged.Add(run.Policies.NicKey(instance, nic)))
                    continue;
                var policy = run.Policies.Of(instance, nic);
                var overlaps = new Overlaps(new RuleResolver(run.State, instance), instance.AddressesOn(policy.NicType));
                foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                {
                    var rules = policy.RulesInOrder(direction).ToArray();
                    foreach (var accept in rules.Where(r => r.Rule.Policy == Verdict.Accept))
                    {
                        foreach (var drop in rules.Where(r => r.Rule.Policy == Verdict.Drop && r.Rule.Priority == accept.Rule.Priority))
                        {
                            if (seen.Contains((accept.Rule.Id, drop.Rule.Id)) || !overlaps.Meet(accept, drop))
                                continue;
                            seen.Add((accept.Rule.Id, drop.Rule.Id));
                            run.Add(Info, accept.GroupId, accept.Rule.Id, instance.Id,
                                $"On {instance.InterfaceLabel}, accept rule {accept.Rule.Id} of {accept.GroupId} and drop rule {drop.Rule.Id} of {drop.GroupId} overlap at priority {accept.Rule.Priority}: the drop wins where they overlap. Give the intended winner a lower priority number.",
                                new SamePriorityConflictEvidence(accept.Rule.Id, drop.Rule.Id, drop.GroupId, accept.Rule.Priority.Value));
                        }
                    }
                }
            }
        }
    }

    /// <summary>Whether two rules of one NIC match a common packet; each rule's peers resolved once.</summary>
    internal sealed class Overlaps(RuleResolver resolver, IReadOnlyList<IpAddress> locals)
    {
        private readonly Dictionary<RuleRef, (UInt128 First, UInt128 Last)[][]> _peers = [];

        public bool Meet(RuleRef a, RuleRef b) =>
            FlowProtocols.Any(p => Matches(a.Rule, p) && Matches(b.Rule, p) && PortsMeet(a.Rule, b.Rule, p))
            && new[] { false, true }.Any(v6 => AnyIntersect(Peers(a)[v6 ? 1 : 0], Peers(b)[v6 ? 1 : 0]) && locals.Any(l => l.IsV6 == v6 && Local(a.Rule, l) && Local(b.Rule, l)));

        private static bool Matches(SecurityGroupRule rule, IpProtocol flow) => rule.Protocol == IpProtocol.All || rule.Protocol == flow;

        private static bool Local(SecurityGroupRule rule, IpAddress local) => rule.LocalCidr is not { } l || l.Contains(local);

        /// <summary>Destination and source ports for a flow of protocol <paramref name="p"/> (a protocol without ports has port 0).</summary>
        private bool PortsMeet(SecurityGroupRule a, SecurityGroupRule b, IpProtocol p)
        {
            if (!p.HasPorts())
                return (a.SourcePorts?.Contains(0) ?? true) && (b.SourcePorts?.Contains(0) ?? true);
            return AnyIntersect(DestinationPorts(a), DestinationPorts(b)) && AnyIntersect(SourcePorts(a), SourcePorts(b));
        }

        /// <summary>An <c>ALL</c> rule takes every port of a TCP or UDP flow.</summary>
        private (int, int)[] DestinationPorts(SecurityGroupRule rule) =>
            rule.Protocol.HasPorts() ? [.. resolver.DestinationPorts(rule).Select(r => (r.Low, r.High))] : [(0, PortRange.MaxPort)];

        private static (int, int)[] SourcePorts(SecurityGroupRule rule) =>
            rule.SourcePorts is { } sp ? [(sp.Low, sp.High)] : [(0, PortRange.MaxPort)];

        /// <summary>The rule's peer blocks, IPv4 then IPv6.</summary>
        private (UInt128 First, UInt128 Last)[][] Peers(RuleRef rule)
        {
            if (!_peers.TryGetValue(rule, out var blocks))
            {
                var all = resolver.PeerBlocks(rule).ToList();
                // Sorted once: a group's members are as many blocks as it has addresses.
                _peers.Add(rule, blocks =
                [
                    [.. all.Where(b => !b.IsV6).Select(b => (b.First, b.Last)).OrderBy(b => b.First)],
                    [.. all.Where(b => b.IsV6).Select(b => (b.First, b.Last)).OrderBy(b => b.First)],
                ]);
            }
            return blocks;
        }

        /// <summary>Whether some value lies in a range of each list: sorted by start (unless already), swept once.</summary>
        internal static bool AnyIntersect<T>(IReadOnlyList<(T Low, T High)> a, IReadOnlyList<(T Low, T High)> b) where T : IComparable<T>
        {
            if (a.Count == 0 || b.Count == 0)
                return false;
            var x = Sorted(a);
            var y = Sorted(b);
            int i = 0, j = 0;
            while (i < x.Count && j < y.Count)
            {
                var low = x[i].Low.CompareTo(y[j].Low) >= 0 ? x[i].Low : y[j].Low;
                var high = x[i].High.CompareTo(y[j].High) <= 0 ? x[i].High : y[j].High;
                if (low.CompareTo(high) <= 0)
                    return true;
                // The range that ends first can meet nothing further in the other list.
                if (x[i].High.CompareTo(y[j].High) < 0)
                    i++;
                else
                    j++;
            }
            return false;
        }

        private static IReadOnlyList<(T Low, T High)> Sorted<T>(IReadOnlyList<(T Low, T High)> ranges) where T : IComparable<T>
        {
            for (var k = 1; k < ranges.Count; k++)
            {
                if (ranges[k - 1].Low.CompareTo(ranges[k].Low) > 0)
                    return [.. ranges.OrderBy(r => r.Low)];
            }
            return ranges;
        }
    }
}
