using System.Globalization;
using Palisade.Domain.Errors;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Domain.Ecs;

/// <summary>The group a rule is parsed for: its network and type decide which fields are allowed.</summary>
/// <param name="FindPrefixList">Resolves a prefix list to check its address family; null skips that check.</param>
public sealed record RuleContext(bool GroupIsClassic, SecurityGroupType GroupType, Func<PrefixListId, PrefixList?>? FindPrefixList = null);

/// <summary>
/// Turns the wire fields of one <c>Permission</c> into a <see cref="SecurityGroupRule"/>, or the
/// first catalogued error, checking fields in the order ECS documents them (ecs-api.md §2.3, §3.7, §4).
/// </summary>
public static class PermissionParser
{
    public const int MaxDescriptionLength = 512;

    public static Result<SecurityGroupRule> Parse(
        Direction direction,
        PermissionFields fields,
        RuleContext context,
        SecurityGroupRuleId id,
        DateTimeOffset createTime = default)
    {
        var ingress = direction == Direction.Ingress;

        if (!IpProtocols.TryParse(Blank(fields.IpProtocol), out var protocol))
            return EcsErrors.IpProtocolNotSupported(fields.IpProtocol);

        PortRange ports;
        PortRangeListId? portRangeListId = null;
        if (Blank(fields.PortRange) is null && Blank(fields.PortRangeListId) is { } listText)
        {
            if (!PortRangeListId.TryParse(listText, out var listId))
                return EcsErrors.IdentifierMalformed("PortRangeListId", listText);
            if (!protocol.HasPorts())
                return EcsErrors.PortRangeListNotForProtocol(protocol.ToWire());
            portRangeListId = listId;
            ports = PortRange.Any;
        }
        else if (!PortRange.ParseFor(protocol, Blank(fields.PortRange)).TryGet(out ports, out var portError))
        {
            return portError;
        }

        if (!PortRange.ParseSourceFor(protocol, Blank(fields.SourcePortRange)).TryGet(out var sourcePorts, out var sourcePortError))
            return sourcePortError;

        var policy = Verdict.Accept;
        if (Blank(fields.Policy) is { } policyText && !Verdicts.TryParse(policyText, out policy))
            return EcsErrors.PolicyMalformed(policyText);

        if (!Rules.Priority.Parse(Blank(fields.Priority)).TryGet(out var priority, out var priorityError))
            return priorityError;

        var nicType = context.GroupIsClassic ? NicType.Internet : NicType.Intranet;
        if (Blank(fields.NicType) is { } nicText)
        {
            if (!NicTypes.TryParse(nicText, out var given))
                return EcsErrors.NicTypeNotSupported(nicText);
            // VPC groups ignore the given NicType: every VPC rule is intranet (ecs-api.md §2.3).
            if (context.GroupIsClassic)
                nicType = given;
        }

        var peerSide = ingress
            ? new Side("SourceCidrIp", fields.SourceCidrIp, "Ipv6SourceCidrIp", fields.Ipv6SourceCidrIp)
            : new Side("DestCidrIp", fields.DestCidrIp, "Ipv6DestCidrIp", fields.Ipv6DestCidrIp);
        var localSide = ingress
            ? new Side("DestCidrIp", fields.DestCidrIp, "Ipv6DestCidrIp", fields.Ipv6DestCidrIp)
            : new Side("SourceCidrIp", fields.SourceCidrIp, "Ipv6SourceCidrIp", fields.Ipv6SourceCidrIp);

        if (!ParsePeer(ingress, fields, peerSide, context, nicType, Blank(fields.NicType) is not null).TryGet(out var peer, out var peerError))
            return peerError;

        if (!ParseCidr(localSide, sourceSide: !ingress).TryGet(out var localCidr, out var localError))
            return localError;
        if (localCidr is { } local && peer is RulePeer.CidrBlock { Cidr: var peerCidr } && peerCidr.IsV6 != local.IsV6)
            return EcsErrors.AddressFamilyMixed();

        bool? ruleIsV6 = peer switch
        {
            RulePeer.CidrBlock c => c.Cidr.IsV6,
            RulePeer.PrefixList p => context.FindPrefixList?.Invoke(p.PrefixListId)?.IsV6,
            _ => localCidr?.IsV6,
        };
        if (peer is RulePeer.PrefixList { PrefixListId: var namedList } && localCidr is { } narrowed && ruleIsV6 is { } listIsV6 && narrowed.IsV6 != listIsV6)
            return EcsErrors.PrefixListAddressFamilyMismatch(namedList.Value);
        if (ruleIsV6 == true && context.GroupIsClassic)
            return EcsErrors.Ipv6InClassicGroup();
        if (ruleIsV6 == true && protocol == IpProtocol.Icmp)
            return EcsErrors.Ipv4ProtocolWithIpv6Address(protocol.ToWire());
        if (ruleIsV6 == false && protocol == IpProtocol.IcmpV6)
            return EcsErrors.Ipv6ProtocolWithIpv4Address(protocol.ToWire());

        var description = Blank(fields.Description) ?? string.Empty;
        if (description.Length > MaxDescriptionLength)
            return EcsErrors.DescriptionMalformed(description);

        return new SecurityGroupRule(id, direction, protocol, ports, policy, priority, nicType, peer,
            sourcePorts, localCidr, portRangeListId, description, createTime);
    }

    private readonly record struct Side(string V4Field, string? V4, string V6Field, string? V6);

    // Precedence when several peers are given (ecs-api.md §2.3): a CIDR beats the group, and a
    // CIDR, IPv6 block or group beats the prefix list.
    private static Result<RulePeer> ParsePeer(bool ingress, PermissionFields f, Side side, RuleContext context, NicType nicType, bool nicTypeGiven)
    {
        if (!ParseCidr(side, sourceSide: ingress).TryGet(out var cidr, out var cidrError))
            return cidrError;
        if (cidr is { } block)
            return new RulePeer.CidrBlock(block);

        var groupText = Blank(ingress ? f.SourceGroupId : f.DestGroupId);
        if (groupText is not null)
        {
            if (!SecurityGroupId.TryParse(groupText, out var groupId))
                return EcsErrors.SecurityGroupIdMalformed(groupText);
            if (context.GroupType == SecurityGroupType.Enterprise)
                return EcsErrors.GroupReferenceInAdvancedGroup();
            if (context.GroupIsClassic && (!nicTypeGiven || nicType != NicType.Intranet))
                return EcsErrors.GroupPeerNeedsIntranet(ingress);
            var ownerAccount = Blank(ingress ? f.SourceGroupOwnerAccount : f.DestGroupOwnerAccount);
            var ownerIdText = Blank(ingress ? f.SourceGroupOwnerId : f.DestGroupOwnerId);
            long? ownerId = null;
            if (ownerIdText is not null)
            {
                if (!long.TryParse(ownerIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                    return EcsErrors.IdentifierMalformed(ingress ? "SourceGroupOwnerId" : "DestGroupOwnerId", ownerIdText);
                ownerId = parsed;
            }
            return new RulePeer.Group(groupId, ownerAccount, ownerId);
        }

        var prefixText = Blank(ingress ? f.SourcePrefixListId : f.DestPrefixListId);
        if (prefixText is not null)
        {
            if (!PrefixListId.TryParse(prefixText, out var prefixListId))
                return EcsErrors.IdentifierMalformed(ingress ? "SourcePrefixListId" : "DestPrefixListId", prefixText);
            if (context.GroupIsClassic)
                return EcsErrors.PrefixListInClassicGroup();
            return new RulePeer.PrefixList(prefixListId);
        }

        return EcsErrors.PeerMissing(ingress);
    }

    private static Result<Cidr?> ParseCidr(Side side, bool sourceSide)
    {
        var v4 = Blank(side.V4);
        var v6 = Blank(side.V6);
        if (v4 is not null && v6 is not null)
            return EcsErrors.BothAddressFamilies(sourceSide);
        if (v4 is not null)
            return Cidr.TryParse(v4, out var c4) && !c4.IsV6 ? (Cidr?)c4 : EcsErrors.CidrMalformed(side.V4Field, v4);
        if (v6 is not null)
            return Cidr.TryParse(v6, out var c6) && c6.IsV6 ? (Cidr?)c6 : EcsErrors.CidrMalformed(side.V6Field, v6);
        return (Cidr?)null;
    }

    /// <summary>The wire field an error from <see cref="Parse"/> is about, to point at it in a file or form.</summary>
    public static string FieldOf(EcsError error, Direction direction)
    {
        var ingress = direction == Direction.Ingress;
        return error.Code switch
        {
            EcsErrorCodes.InvalidIpProtocolValueNotSupported => "IpProtocol",
            EcsErrorCodes.InvalidPortRangeMalformed or EcsErrorCodes.InvalidParamPortRange
                or EcsErrorCodes.InvalidIpProtocolMalformed or EcsErrorCodes.OperationDenied => "PortRange",
            EcsErrorCodes.InvalidParamProtocolNotSupportPortRangeList => "PortRangeListId",
            EcsErrorCodes.InvalidSourcePortRangeMalformed => "SourcePortRange",
            EcsErrorCodes.InvalidPolicyMalformed => "Policy",
            EcsErrorCodes.InvalidPriorityMalformed or EcsErrorCodes.InvalidPriorityValueNotSupported => "Priority",
            EcsErrorCodes.InvalidNicTypeValueNotSupported or EcsErrorCodes.InvalidSourceGroupIdMismatch
                or EcsErrorCodes.InvalidDestGroupIdMismatch => "NicType",
            EcsErrorCodes.InvalidSourceCidrIpMalformed or EcsErrorCodes.InvalidParamSourceIp => "SourceCidrIp",
            EcsErrorCodes.InvalidDestCidrIpMalformed or EcsErrorCodes.InvalidParamDestIp => "DestCidrIp",
            EcsErrorCodes.InvalidParamIpv6SourceCidrIp => "Ipv6SourceCidrIp",
            EcsErrorCodes.InvalidParamIpv6DestCidrIp => "Ipv6DestCidrIp",
            EcsErrorCodes.InvalidSecurityGroupIdMalformed or EcsErrorCodes.InvalidGroupAuthParameterOperationDenied =>
                ingress ? "SourceGroupId" : "DestGroupId",
            EcsErrorCodes.NotSupportedClassicNetworkPrefixList => ingress ? "SourcePrefixListId" : "DestPrefixListId",
            EcsErrorCodes.InvalidSecurityGroupDiscriptionMalformed => "Description",
            _ => ingress ? "SourceCidrIp" : "DestCidrIp",
        };
    }

    private static string? Blank(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
