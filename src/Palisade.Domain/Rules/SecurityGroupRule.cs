using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Rules;

/// <summary>
/// One rule of a security group: every field of an ECS <c>Permission</c>, parsed.
/// </summary>
/// <param name="Ports">The destination ports (<c>PortRange</c>); ignored when <paramref name="PortRangeListId"/> is set.</param>
/// <param name="SourcePorts">The optional source ports of a quintuple rule (<c>SourcePortRange</c>).</param>
/// <param name="LocalCidr">
/// The optional block that narrows which of the NIC's own addresses the rule applies to: an
/// ingress rule's <c>DestCidrIp</c>, an egress rule's <c>SourceCidrIp</c> (quintuple rules).
/// </param>
public sealed record SecurityGroupRule(
    SecurityGroupRuleId Id,
    Direction Direction,
    IpProtocol Protocol,
    PortRange Ports,
    Verdict Policy,
    Priority Priority,
    NicType NicType,
    RulePeer Peer,
    PortRange? SourcePorts = null,
    Cidr? LocalCidr = null,
    PortRangeListId? PortRangeListId = null,
    string Description = "",
    DateTimeOffset CreateTime = default)
{
    /// <summary>
    /// The fields that make two rules the same rule (ARCHITECTURE.md semantics 6): everything but
    /// the ID, description and creation time.
    /// </summary>
    public RuleIdentity Identity => new(Direction, Protocol, PortRangeListId is null ? Ports : PortRange.Any, SourcePorts, NicType, Policy, Priority, Peer, LocalCidr, PortRangeListId);
}

/// <summary>The duplicate-detection key of a rule (ARCHITECTURE.md semantics 6).</summary>
public readonly record struct RuleIdentity(
    Direction Direction,
    IpProtocol Protocol,
    PortRange Ports,
    PortRange? SourcePorts,
    NicType NicType,
    Verdict Policy,
    Priority Priority,
    RulePeer Peer,
    Cidr? LocalCidr,
    PortRangeListId? PortRangeListId);
