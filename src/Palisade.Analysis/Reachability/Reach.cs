using Palisade.Analysis.Internet;

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
    /// <summary>The secondary ENI of <see cref="Instance"/> that owns the named address; null for its primary ENI or the internet.</summary>
    public NetworkInterfaceId? NetworkInterfaceId =>
        Instance is { } instance && WitnessAddress is { } address && instance.InterfaceOf(address) is { IsSecondaryInterface: true } nic ? nic.NetworkInterfaceId : null;

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
        var targetRules = RulesOfEveryInterface(evaluator, target, Direction.Ingress);
        foreach (var source in state.Instances.Where(i => i.Id != target.Id && (sources is null || sources.Contains(i.Id))))
        {
            // Private addresses talk only within one VPC (or the classic network).
            if (source.VpcId != target.VpcId)
                continue;
            var rules = RulesOfEveryInterface(evaluator, source, Direction.Egress).Concat(targetRules).ToArray();
            if (Between(state, evaluator, source, target, v6, rules, sourceSide: true) is { } reacher)
                result.Add(reacher);
        }

        // The internet reaches a VPC instance through its public address, a classic one on its internet
        // NIC; an instance with secondary ENIs through each ENI's own, judged by that ENI's groups.
        if (sources is not null)
            return result;
        if (FromInternet(state, evaluator, target, v6) is { } fromInternet)
            result.Add(fromInternet);
        return result;
    }

    /// <summary>The rules of one direction of every ENI of an instance: where its decisions can change.</summary>
    private static RuleRef[] RulesOfEveryInterface(FlowEvaluator evaluator, Instance instance, Direction direction) =>
        [.. instance.Interfaces.SelectMany(nic => evaluator.PolicyOf(nic, NicType.Intranet).RulesInOrder(direction).ToArray())];

    /// <summary>The union over the ENIs of what the internet reaches of each; the witness of the first ENI reached.</summary>
    private static Reacher? OverInterfaces(Instance instance, Func<Instance, Reacher?> answer)
    {
        if (instance.SecondaryInterfaces.Length == 0)
            return answer(instance);
        var union = AccessSet.None;
        IpAddress? witness = null;
        foreach (var nic in instance.Interfaces)
        {
            if (answer(nic) is not { } reacher)
                continue;
            witness ??= reacher.WitnessAddress;
            union = union.Union(AccessSet.FromAccesses(reacher.Accesses));
        }
        return union.IsEmpty ? null : new Reacher(null, witness, union.ToAccesses());
    }

    private static Reacher? FromInternet(NetworkState state, FlowEvaluator evaluator, Instance target, bool v6) =>
        OverInterfaces(target, nic => FromInternetToInterface(state, evaluator, nic, v6));

    /// <summary>What the internet reaches of one ENI (a view from <see cref="Instance.Interfaces"/>), through its own public address or EIP.</summary>
    internal static Reacher? FromInternetToInterface(NetworkState state, FlowEvaluator evaluator, Instance nic, bool v6)
    {
        var (nicType, entries) = InternetExposure.Entries(nic, v6);
        if (entries.Count == 0)
            return null;
        {
            var policy = evaluator.PolicyOf(nic, nicType);
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
            return accesses.Count > 0 ? new Reacher(null, witness, accesses) : null;
        }
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
        var sourceRules = RulesOfEveryInterface(evaluator, source, Direction.Egress);
        foreach (var target in state.Instances.Where(i => i.Id != source.Id))
        {
            if (source.VpcId != target.VpcId)
                continue;
            var rules = sourceRules.Concat(RulesOfEveryInterface(evaluator, target, Direction.Ingress)).ToArray();
            if (Between(state, evaluator, source, target, v6, rules, sourceSide: false) is { } reacher)
                result.Add(reacher);
        }

        if (ToInternet(state, evaluator, source, v6) is { } toInternet)
            result.Add(toInternet);
        return result;
    }

    private static Reacher? ToInternet(NetworkState state, FlowEvaluator evaluator, Instance source, bool v6) => OverInterfaces(source, nic =>
    {
        var (nicType, exits) = InternetExposure.Exits(nic, v6);
        if (exits.Count == 0)
            return null;
        {
            var policy = evaluator.PolicyOf(nic, nicType);
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
            return accesses.Count > 0 ? new Reacher(null, witness, accesses) : null;
        }
    });

    /// <summary>
    /// What one ENI of an instance reaches of one ENI of another (views from <see cref="Instance.Interfaces"/>),
    /// over every pair of their addresses of the family: the slow twin of the matrix's group picture.
    /// </summary>
    internal static AccessSet BetweenInterfaces(NetworkState state, FlowEvaluator evaluator, Instance source, Instance target, bool v6)
    {
        var rules = evaluator.PolicyOf(source, NicType.Intranet).RulesInOrder(Direction.Egress).ToArray()
            .Concat(evaluator.PolicyOf(target, NicType.Intranet).RulesInOrder(Direction.Ingress).ToArray()).ToArray();
        var union = AccessSet.None;
        foreach (var src in source.PrivateAddresses.Where(a => a.IsV6 == v6).Distinct())
        {
            foreach (var dst in target.PrivateAddresses.Where(a => a.IsV6 == v6).Distinct())
                union = union.Union(AccessSet.FromAccesses(Accesses(state, (protocol, port) => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed, rules)));
        }
        return union;
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
