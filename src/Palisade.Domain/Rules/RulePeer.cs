using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Rules;

/// <summary>
/// The other end a rule names: the source of an ingress rule, the destination of an egress rule.
/// Exactly one kind per rule (ecs-api.md §2.3).
/// </summary>
public abstract record RulePeer
{
    private RulePeer()
    {
    }

    /// <summary>An IPv4 or IPv6 block (<c>SourceCidrIp</c>, <c>Ipv6SourceCidrIp</c> and the <c>Dest</c> twins).</summary>
    public sealed record CidrBlock(Cidr Cidr) : RulePeer
    {
        public override string ToString() => Cidr.ToString();
    }

    /// <summary>
    /// Every NIC in another security group (<c>SourceGroupId</c>/<c>DestGroupId</c>). The owner
    /// fields name another account's group; both empty means the rule's own account.
    /// </summary>
    public sealed record Group(SecurityGroupId GroupId, string? OwnerAccount = null, long? OwnerId = null) : RulePeer
    {
        public override string ToString() => GroupId.ToString();
    }

    /// <summary>Every block of a prefix list (<c>SourcePrefixListId</c>/<c>DestPrefixListId</c>).</summary>
    public sealed record PrefixList(PrefixListId PrefixListId) : RulePeer
    {
        public override string ToString() => PrefixListId.ToString();
    }
}
