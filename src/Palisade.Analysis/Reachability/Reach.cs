using Palisade.Analysis.Audit;
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
    /// <summary>"TCP 22, 8000-8080", or just "ICMP" for a protocol without ports.</summary>
    public string Label => Protocol.HasPorts()
        ? $"{Protocol.ToWire()} {string.Join(", ", Ports.Select(p => p.Low == p.High ? $"{p.Low}" : $"{p.Low}-{p.High}"))}"
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
/// once, by the engine, and adjacent accepted intervals are merged. An instance is represented by
/// its primary address of the family; the internet by every internet address class
/// (<see cref="InternetExposure.CandidateSources"/>).
/// </summary>
public static class Reach
{
    /// <summary>The protocols an answer covers, in the order it lists them.</summary>
    internal static readonly IpProtocol[] Protocols = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All];

    /// <param name="sources">Only these sources (and not the internet) when given: for a question about a few instances.</param>
    /// <param name="evaluator">One evaluator for many questions on one state, so that each NIC is compiled once.</param>
    public static IReadOnlyList<Reacher> To(NetworkState state, Instance target, bool v6 = false, IReadOnlySet<InstanceId>? sources = null, FlowEvaluator? evaluator = null)
    {
        evaluator ??= new FlowEvaluator(state);
        var targetAddress = target.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6);
        var result = new List<Reacher>();
        if (targetAddress is not { } dst)
            return result;
        var targetPolicy = evaluator.PolicyOf(target, NicType.Intranet);
        foreach (var source in state.Instances.Where(i => i.Id != target.Id && (sources is null || sources.Contains(i.Id))))
        {
            if (source.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } src)
                continue;
            // Private addresses talk only within one VPC (or the classic network).
            if (source.VpcId != target.VpcId)
                continue;
            var sourcePolicy = evaluator.PolicyOf(source, NicType.Intranet);
            var accesses = Accesses(state, (protocol, port) => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed,
                sourcePolicy.RulesInOrder(Direction.Egress).ToArray().Concat(targetPolicy.RulesInOrder(Direction.Ingress).ToArray()));
            if (accesses.Count > 0)
                result.Add(new Reacher(source, src, accesses));
        }

        // The internet reaches a VPC instance through its public address, a classic one on its internet NIC.
        if (sources is not null)
            return result;
        var (nic, entry) = InternetExposure.Entry(target, v6);
        if (entry is { } publicDst)
        {
            var policy = evaluator.PolicyOf(target, nic);
            var candidates = InternetExposure.CandidateSources(state, policy, v6);
            IpAddress? witness = null;
            var accesses = Accesses(state, (protocol, port) =>
            {
                foreach (var (address, _) in candidates)
                {
                    if (policy.Decide(Direction.Ingress, new Flow(address, publicDst, protocol, port)).Verdict == Verdict.Accept)
                    {
                        witness ??= address;
                        return true;
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
        if (source.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } src)
            return result;
        var sourcePolicy = evaluator.PolicyOf(source, NicType.Intranet);
        foreach (var target in state.Instances.Where(i => i.Id != source.Id))
        {
            if (target.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6) is not { } dst)
                continue;
            if (source.VpcId != target.VpcId)
                continue;
            var targetPolicy = evaluator.PolicyOf(target, NicType.Intranet);
            var accesses = Accesses(state, (protocol, port) => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed,
                sourcePolicy.RulesInOrder(Direction.Egress).ToArray().Concat(targetPolicy.RulesInOrder(Direction.Ingress).ToArray()));
            if (accesses.Count > 0)
                result.Add(new Reacher(target, dst, accesses));
        }

        var (nic, exit) = InternetExposure.Exit(source, v6);
        if (exit is { } from)
        {
            var policy = evaluator.PolicyOf(source, nic);
            var candidates = InternetExposure.CandidateSources(state, policy, v6, Direction.Egress);
            IpAddress? witness = null;
            var accesses = Accesses(state, (protocol, port) =>
            {
                foreach (var (address, _) in candidates)
                {
                    if (policy.Decide(Direction.Egress, new Flow(from, address, protocol, port)).Verdict == Verdict.Accept)
                    {
                        witness ??= address;
                        return true;
                    }
                }
                return false;
            }, policy.RulesInOrder(Direction.Egress).ToArray());
            if (accesses.Count > 0)
                result.Add(new Reacher(null, witness, accesses));
        }
        return result;
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
