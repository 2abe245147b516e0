using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Indexing;

namespace Palisade.Engine.Policies;

/// <summary>
/// Everything one NIC enforces, compiled once from the state and immutable afterwards: the pooled
/// rules of all its groups per direction, the fellow members its groups' inner access concerns, and
/// its defaults. <see cref="Decide"/> answers any packet with a <see cref="Decision"/> that explains
/// itself. The semantics are ARCHITECTURE.md "Semantics we decided" and docs/semantics.md.
/// </summary>
public sealed class NicPolicy
{
    private readonly DirectionTable _ingress;
    private readonly DirectionTable _egress;
    private readonly HostMap<SecurityGroupId> _innerAccept;
    private readonly HostMap<SecurityGroupId> _innerDrop;

    private NicPolicy(Instance instance, NicType nicType, ImmutableArray<SecurityGroup> groups, DirectionTable ingress, DirectionTable egress,
        HostMap<SecurityGroupId> innerAccept, HostMap<SecurityGroupId> innerDrop, Verdict defaultEgress)
    {
        Instance = instance;
        NicType = nicType;
        Groups = groups;
        _ingress = ingress;
        _egress = egress;
        _innerAccept = innerAccept;
        _innerDrop = innerDrop;
        DefaultEgress = defaultEgress;
    }

    public Instance Instance { get; }

    /// <summary>The NIC this policy is for: a VPC instance's only NIC is <see cref="NicType.Intranet"/>.</summary>
    public NicType NicType { get; }

    /// <summary>The groups of the NIC, ordered by ID; groups the state does not hold are left out.</summary>
    public ImmutableArray<SecurityGroup> Groups { get; }

    /// <summary>Outbound traffic no rule matches: accepted, unless the NIC is in an advanced group.</summary>
    public Verdict DefaultEgress { get; }

    public int RuleCount(Direction direction) => Table(direction).RuleCount;

    /// <summary>The rules of one direction in the order they are tried.</summary>
    public ReadOnlySpan<RuleRef> RulesInOrder(Direction direction) => Table(direction).Rules;

    /// <summary>An estimate of the bytes this compiled policy holds on the heap, for capacity planning.</summary>
    public long EstimatedBytes =>
        _ingress.EstimatedBytes + _egress.EstimatedBytes + _innerAccept.EstimatedBytes + _innerDrop.EstimatedBytes + 256;

    public static NicPolicy Compile(NetworkState state, Instance instance, NicType nicType = NicType.Intranet)
    {
        var rules = NicRules.Gather(state, instance, nicType);
        nicType = rules.NicType;
        var groups = rules.Groups;
        var resolver = new RuleResolver(state, instance);

        // Inner access is between members over private addresses, so a classic internet NIC has none.
        var innerGroups = nicType == NicType.Intranet ? groups : [];
        HostMap<SecurityGroupId> Members(InnerAccessPolicy policy) => new(
            innerGroups.Where(g => g.EffectiveInnerAccessPolicy == policy)
                .SelectMany(g => resolver.MemberAddresses(g.Id).Select(a => (a, g.Id))));

        return new NicPolicy(instance, nicType, groups, new DirectionTable(rules.Ingress, resolver), new DirectionTable(rules.Egress, resolver),
            Members(InnerAccessPolicy.Accept), Members(InnerAccessPolicy.Drop), rules.DefaultEgress);
    }

    /// <summary>
    /// The decision of this NIC for <paramref name="flow"/> in <paramref name="direction"/>:
    /// ingress judges a packet arriving (its peer is the source), egress a packet leaving (its peer
    /// is the destination).
    /// </summary>
    public Decision Decide(Direction direction, in Flow flow)
    {
        var ingress = direction == Direction.Ingress;
        var peer = ingress ? flow.Source : flow.Destination;
        var local = ingress ? flow.Destination : flow.Source;

        // Semantics 2: a shared basic group with InnerAccessPolicy=Accept overrides every user rule.
        var innerAccept = _innerAccept.TryGet(peer, out var acceptGroup);
        var (winner, beaten) = Table(direction).Match(flow.Protocol, flow.EffectiveDestinationPort, flow.EffectiveSourcePort, peer, local, innerAccept);
        if (innerAccept)
            return new Decision(Verdict.Accept, DecisionReason.InnerAccess, null, acceptGroup, beaten);
        if (winner is not null)
            return new Decision(winner.Rule.Policy, DecisionReason.Rule, winner, null, beaten);
        // Semantics 2 and 3: InnerAccessPolicy=Drop keeps members apart when no rule lets them in;
        // outbound, a basic group's default accept still lets the packet leave.
        if (ingress && _innerDrop.TryGet(peer, out var dropGroup))
            return new Decision(Verdict.Drop, DecisionReason.InnerAccess, null, dropGroup, []);
        return new Decision(ingress ? Verdict.Drop : DefaultEgress, DecisionReason.Default, null, null, []);
    }

    private DirectionTable Table(Direction direction) => direction == Direction.Ingress ? _ingress : _egress;
}
