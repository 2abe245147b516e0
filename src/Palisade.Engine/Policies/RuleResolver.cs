using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Engine.Policies;

/// <summary>
/// Expands what a rule names indirectly into addresses and ports, from the viewpoint of one NIC:
/// a group peer into the private addresses of that group's members in the NIC's own network (same
/// VPC for a VPC NIC, the classic network for a classic one — ARCHITECTURE.md semantics 5), a prefix
/// list into its blocks, a port range list into its ranges. A name that the state does not hold
/// expands to nothing, so such a rule matches no traffic.
/// </summary>
public sealed class RuleResolver(NetworkState state, Instance nic)
{
    public NetworkState State => state;

    public IEnumerable<PortRange> DestinationPorts(SecurityGroupRule rule) =>
        rule.PortRangeListId is { } listId
            ? state.FindPortRangeList(listId)?.Entries ?? []
            : [rule.Ports];

    public IEnumerable<Cidr> PeerBlocks(RuleRef rule) => rule.Rule.Peer switch
    {
        RulePeer.CidrBlock c => [c.Cidr],
        RulePeer.PrefixList p => state.FindPrefixList(p.PrefixListId)?.Entries ?? [],
        RulePeer.Group g => MemberAddresses(g.GroupId).Select(Cidr.Host),
        _ => throw new InvalidOperationException($"Unknown peer {rule.Rule.Peer}"),
    };

    /// <summary>The private addresses of the members of <paramref name="groupId"/> that share this NIC's network.</summary>
    public IEnumerable<IpAddress> MemberAddresses(Palisade.Domain.Identifiers.SecurityGroupId groupId) =>
        state.MembersOf(groupId)
            .Where(SharesNetwork)
            .SelectMany(m => m.MemberAddresses);

    private bool SharesNetwork(Instance member) =>
        member.NetworkType == nic.NetworkType && (nic.NetworkType == NetworkType.Classic || member.VpcId == nic.VpcId);
}
