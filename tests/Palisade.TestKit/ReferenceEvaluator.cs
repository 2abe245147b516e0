using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;

namespace Palisade.TestKit;

/// <summary>
/// The slow, obviously correct twin of <see cref="NicPolicy"/>: no index, no bit sets. It reads
/// the state afresh for every packet, checks every rule of every group of the NIC field by field,
/// sorts the matches by precedence and applies the semantics in the order docs/semantics.md states
/// them. It shares only the domain types and the tie-break order (<see cref="RulePrecedence"/>) with
/// the engine.
/// </summary>
public static class ReferenceEvaluator
{
    public static Decision Decide(NetworkState state, Instance nic, NicType nicType, Direction direction, Flow flow)
    {
        if (nic.NetworkType == NetworkType.Vpc)
            nicType = NicType.Intranet;
        var ingress = direction == Direction.Ingress;
        var peer = ingress ? flow.Source : flow.Destination;
        var local = ingress ? flow.Destination : flow.Source;

        var groups = new List<SecurityGroup>();
        foreach (var id in nic.SecurityGroupIds.Distinct())
        {
            if (state.FindGroup(id) is { } g)
                groups.Add(g);
        }

        var matching = new List<RuleRef>();
        foreach (var group in groups)
        {
            foreach (var rule in group.Rules)
            {
                if (rule.Direction != direction)
                    continue;
                if (nic.NetworkType == NetworkType.Classic && rule.NicType != nicType)
                    continue;
                if (rule.Protocol != IpProtocol.All && rule.Protocol != flow.Protocol)
                    continue;
                if (!PortMatches(state, rule, flow))
                    continue;
                if (rule.SourcePorts is { } sp && !(flow.Protocol.HasPorts() ? sp.Contains(flow.SourcePort) : sp.Contains(0)))
                    continue;
                if (rule.LocalCidr is { } lc && !lc.Contains(local))
                    continue;
                if (!PeerMatches(state, nic, rule.Peer, peer))
                    continue;
                matching.Add(new RuleRef(group.Id, rule));
            }
        }
        matching.Sort(RulePrecedence.Instance);

        var innerPossible = nicType == NicType.Intranet;
        var acceptGroup = groups
            .Where(g => innerPossible && g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept && IsFellowMember(state, nic, g, peer))
            .OrderBy(g => g.Id)
            .FirstOrDefault();
        if (acceptGroup is not null)
            return new Decision(Verdict.Accept, DecisionReason.InnerAccess, null, acceptGroup.Id, [.. matching]);

        if (matching.Count > 0)
            return new Decision(matching[0].Rule.Policy, DecisionReason.Rule, matching[0], null, [.. matching.Skip(1)]);

        if (ingress)
        {
            var dropGroup = groups
                .Where(g => innerPossible && g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Drop && IsFellowMember(state, nic, g, peer))
                .OrderBy(g => g.Id)
                .FirstOrDefault();
            if (dropGroup is not null)
                return new Decision(Verdict.Drop, DecisionReason.InnerAccess, null, dropGroup.Id, ImmutableArray<RuleRef>.Empty);
            return new Decision(Verdict.Drop, DecisionReason.Default, null, null, ImmutableArray<RuleRef>.Empty);
        }
        var anyAdvanced = groups.Any(g => g.Type == SecurityGroupType.Enterprise);
        return new Decision(anyAdvanced ? Verdict.Drop : Verdict.Accept, DecisionReason.Default, null, null, ImmutableArray<RuleRef>.Empty);
    }

    /// <summary>The flow decided by the ENI of the source that owns its source address and the ENI of the destination that owns its destination address.</summary>
    public static PathDecision Evaluate(NetworkState state, Flow flow, Instance? source, Instance? destination, NicType nicType)
    {
        var egress = source is null ? (Decision?)null : Decide(state, OwningEni(source, flow.Source), nicType, Direction.Egress, flow);
        var ingress = destination is null ? (Decision?)null : Decide(state, OwningEni(destination, flow.Destination), nicType, Direction.Ingress, flow);
        return new PathDecision(flow, egress, ingress);
    }

    /// <summary>The ENI of the instance holding the address (private or public), the primary when none does.</summary>
    public static Instance OwningEni(Instance instance, IpAddress address)
    {
        foreach (var eni in Enis(instance))
        {
            if (eni.PrivateAddresses.Contains(address) || eni.PublicAddresses.Contains(address))
                return eni;
        }
        return instance;
    }

    /// <summary>Every ENI of an instance, built here from the record's fields (not through the domain's <c>Interfaces</c>).</summary>
    public static IEnumerable<Instance> Enis(Instance instance)
    {
        yield return instance;
        foreach (var eni in instance.SecondaryInterfaces)
        {
            yield return instance with
            {
                PrivateAddresses = eni.PrivateAddresses,
                PublicAddresses = eni.PublicAddresses,
                SecurityGroupIds = eni.SecurityGroupIds,
                SecondaryInterfaces = [],
                NetworkInterfaceId = eni.Id,
                IsSecondaryInterface = true,
            };
        }
    }

    private static bool PortMatches(NetworkState state, SecurityGroupRule rule, Flow flow)
    {
        if (!flow.Protocol.HasPorts())
            return !rule.Protocol.HasPorts();
        if (!rule.Protocol.HasPorts())
            return true;
        if (rule.PortRangeListId is { } listId)
        {
            var list = state.FindPortRangeList(listId);
            return list is not null && list.Entries.Any(r => r.Contains(flow.DestinationPort));
        }
        return rule.Ports.Contains(flow.DestinationPort);
    }

    private static bool PeerMatches(NetworkState state, Instance nic, RulePeer peer, IpAddress address) => peer switch
    {
        RulePeer.CidrBlock c => c.Cidr.Contains(address),
        RulePeer.PrefixList p => state.FindPrefixList(p.PrefixListId) is { } list && list.Entries.Any(e => e.Contains(address)),
        RulePeer.Group g => state.FindGroup(g.GroupId) is { } group
            ? IsFellowMember(state, nic, group, address)
            : MembersSharingNetwork(state, nic, g.GroupId).Any(m => m.PrivateAddresses.Contains(address)),
        _ => false,
    };

    private static bool IsFellowMember(NetworkState state, Instance nic, SecurityGroup group, IpAddress address) =>
        MembersSharingNetwork(state, nic, group.Id).Any(m => m.PrivateAddresses.Contains(address));

    private static IEnumerable<Instance> MembersSharingNetwork(NetworkState state, Instance nic, Palisade.Domain.Identifiers.SecurityGroupId groupId) =>
        state.Instances.SelectMany(Enis).Where(i =>
            i.SecurityGroupIds.Contains(groupId)
            && i.NetworkType == nic.NetworkType
            && (i.NetworkType == NetworkType.Classic || i.VpcId == nic.VpcId));
}
