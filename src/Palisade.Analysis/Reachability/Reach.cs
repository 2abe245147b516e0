using Palisade.Analysis.Internet;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;

namespace Palisade.Analysis.Reachability;

/// <summary>Ports of one protocol a source reaches; for protocols without ports, one span 0–0 means "yes".</summary>
public sealed record Access(IpProtocol Protocol, IReadOnlyList<PortRange> Ports)
{
    /// <summary>"TCP 22, 8000-8080", "TCP all" (<see cref="PortRange.ForPeople"/>), or just "ICMP" for a protocol without ports.</summary>
    public string Label => Protocol.HasPorts()
        ? $"{Protocol.ToWire()} {string.Join(", ", Ports.Select(p => p.ForPeople))}"
        : Protocol.ToWire();
}

/// <summary>
/// The other end of a reachability answer — who reaches a target (<see cref="Reach.To"/>) or what a
/// source reaches (<see cref="Reach.From"/>): an instance of the state with its address, or "the
/// internet" (any internet address) with one address as a witness.
/// </summary>
public sealed record Reacher(Instance? Instance, IpAddress? WitnessAddress, IReadOnlyList<Access> Accesses)
{

    public bool IsInternet => Instance is null;
}

/// <summary>
/// Who can reach an instance, on which protocols and ports: exact over ports and protocols. The
/// decision can only change where a rule's port range starts or ends, so every port interval
/// between consecutive boundaries of the source's egress and the target's ingress rules is decided
/// once, by the engine, and adjacent accepted intervals are merged. An instance takes part through
/// every private address of the family it has: a source reaches a port of a target when some address
/// of the source reaches it at some address of the target, and the answer names the first address (in
/// the instance's order) of the other end that takes part. The internet is every internet address
/// class (<see cref="InternetExposure.CandidateSources"/>), arriving at <see cref="InternetExposure.Entries"/>
/// and leaving from <see cref="InternetExposure.Exits"/>.
/// </summary>
public static class Reach
{
    /// <summary>Whether a protocol can be carried between addresses of this family (ICMP is IPv4's, ICMPv6 IPv6's).</summary>
    public static bool InFamily(IpProtocol protocol, bool v6) => protocol switch
    {
        IpProtocol.Icmp => !v6,
        IpProtocol.IcmpV6 => v6,
        _ => true,
    };

    /// <summary>The protocols an answer covers, in the order it lists them.</summary>
    internal static readonly IpProtocol[] Protocols = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All];

    /// <param name="sources">Only these sources (and not the internet) when given: for a question about a few instances.</param>
    /// <param name="evaluator">One evaluator for many questions on one state, so that each NIC is compiled once.</param>
    public static IReadOnlyList<Reacher> To(NetworkState state, Instance target, bool v6 = false, IReadOnlySet<InstanceId>? sources = null, FlowEvaluator? evaluator = null)
    {
        evaluator ??= new FlowEvaluator(state);
        var result = new List<Reacher>();
        var destinations = ReachMatrix.AddressesOf(target, v6);
        if (destinations.Length == 0)
            return result;
        var targetPolicy = evaluator.PolicyOf(target, NicType.Intranet);
        foreach (var source in state.Instances.Where(i => i.Id != target.Id && (sources is null || sources.Contains(i.Id))))
        {
            // Private addresses talk only within one VPC (or the classic network).
            if (source.VpcId != target.VpcId)
                continue;
            var sourcePolicy = evaluator.PolicyOf(source, NicType.Intranet);
            var rules = sourcePolicy.RulesInOrder(Direction.Egress).ToArray().Concat(targetPolicy.RulesInOrder(Direction.Ingress).ToArray()).ToArray();
            if (Between(state, evaluator, source, target, v6, rules, sourceSide: true) is { } reacher)
                result.Add(reacher);
        }

        // The internet reaches a VPC instance through its public address, a classic one on its internet NIC.
        if (sources is not null)
            return result;
        var (nic, entries) = InternetExposure.Entries(target, v6);
        if (entries.Count > 0)
        {
            var policy = evaluator.PolicyOf(target, nic);
            var candidates = InternetExposure.CandidateSources(state, policy, v6);
            IpAddress? witness = null;
            var accesses = Accesses(state, (protocol, port) =>
            {
                foreach (var (address, _) in candidates)
                {
                    foreach (var publicDst in entries)
                    {
                        if (policy.Decide(Direction.Ingress, new Flow(address, publicDst, protocol, port)).Verdict == Verdict.Accept)
                        {
                            witness ??= address;
                            return true;
                        }
                    }
                }
                return false;
            }, policy.RulesInOrder(Direction.Ingress).ToArray());
            if (accesses.Count > 0)
                result.Add(new Reacher(null, witness, accesses));
        }
        return result;
    }

    /// <summary>
    /// The forward question, the mirror of <see cref="To"/>: every other instance of the source's network
    /// that it reaches, and the internet (some internet address, after the source's egress rules alone:
    /// the far end is not ours to judge).
    /// </summary>
    public static IReadOnlyList<Reacher> From(NetworkState state, Instance source, bool v6 = false, FlowEvaluator? evaluator = null)
    {
        evaluator ??= new FlowEvaluator(state);
        var result = new List<Reacher>();
        if (ReachMatrix.AddressesOf(source, v6).Length == 0)
            return result;
        var sourcePolicy = evaluator.PolicyOf(source, NicType.Intranet);
        foreach (var target in state.Instances.Where(i => i.Id != source.Id))
        {
            if (source.VpcId != target.VpcId)
                continue;
            var targetPolicy = evaluator.PolicyOf(target, NicType.Intranet);
            var rules = sourcePolicy.RulesInOrder(Direction.Egress).ToArray().Concat(targetPolicy.RulesInOrder(Direction.Ingress).ToArray()).ToArray();
            if (Between(state, evaluator, source, target, v6, rules, sourceSide: false) is { } reacher)
                result.Add(reacher);
        }

        var (nic, exits) = InternetExposure.Exits(source, v6);
        if (exits.Count > 0)
        {
            var policy = evaluator.PolicyOf(source, nic);
            var candidates = InternetExposure.CandidateSources(state, policy, v6, Direction.Egress);
            IpAddress? witness = null;
            var accesses = Accesses(state, (protocol, port) =>
            {
                foreach (var (address, _) in candidates)
                {
                    foreach (var from in exits)
                    {
                        if (policy.Decide(Direction.Egress, new Flow(from, address, protocol, port)).Verdict == Verdict.Accept)
                        {
                            witness ??= address;
                            return true;
                        }
                    }
                }
                return false;
            }, policy.RulesInOrder(Direction.Egress).ToArray());
            if (accesses.Count > 0)
                result.Add(new Reacher(null, witness, accesses));
        }
        return result;
    }

    /// <summary>
    /// What <paramref name="source"/> reaches of <paramref name="target"/> over every pair of their
    /// addresses of the family (the union), named by the first address of the source
    /// (<paramref name="sourceSide"/>) or of the target that takes part in some reaching pair; null when nothing.
    /// </summary>
    private static Reacher? Between(NetworkState state, FlowEvaluator evaluator, Instance source, Instance target, bool v6, RuleRef[] rules, bool sourceSide)
    {
        var sourceAddresses = ReachMatrix.AddressesOf(source, v6);
        var targetAddresses = ReachMatrix.AddressesOf(target, v6);
        var union = AccessSet.None;
        IpAddress? named = null;
        var near = sourceSide ? sourceAddresses : targetAddresses;
        var far = sourceSide ? targetAddresses : sourceAddresses;
        foreach (var mine in near)
        {
            foreach (var theirs in far)
            {
                var (src, dst) = sourceSide ? (mine, theirs) : (theirs, mine);
                var accesses = Accesses(state, (protocol, port) => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed, rules);
                if (accesses.Count == 0)
                    continue;
                named ??= mine;
                union = union.Union(AccessSet.FromAccesses(accesses));
            }
        }
        return named is { } address ? new Reacher(sourceSide ? source : target, address, union.ToAccesses()) : null;
    }

    private static List<Access> Accesses(NetworkState state, Func<IpProtocol, int, bool> allowed, IEnumerable<RuleRef> rules)
    {
        var cuts = new SortedSet<int> { PortRange.MinPort };
        foreach (var rule in rules)
        {
            var ranges = rule.Rule.PortRangeListId is { } list && state.FindPortRangeList(list) is { } prl ? prl.Entries.AsEnumerable() : [rule.Rule.Ports];
            foreach (var range in ranges)
            {
                cuts.Add(Math.Max(range.Low, PortRange.MinPort));
                if (range.High < PortRange.MaxPort)
                    cuts.Add(range.High + 1);
            }
        }
        var starts = cuts.ToArray();
        var result = new List<Access>();
        foreach (var protocol in Protocols)
        {
            if (!protocol.HasPorts())
            {
                if (allowed(protocol, 0))
                    result.Add(new Access(protocol, []));
                continue;
            }
            var spans = new List<PortRange>();
            for (var i = 0; i < starts.Length; i++)
            {
                var low = starts[i];
                var high = i + 1 < starts.Length ? starts[i + 1] - 1 : PortRange.MaxPort;
                if (!allowed(protocol, low))
                    continue;
                if (spans.Count > 0 && spans[^1].High == low - 1)
                    spans[^1] = PortRange.Create(spans[^1].Low, high);
                else
                    spans.Add(PortRange.Create(low, high));
            }
            if (spans.Count > 0)
                result.Add(new Access(protocol, spans));
        }
        return result;
    }
}
