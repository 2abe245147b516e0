using Palisade.Domain.Ecs;
using Palisade.Domain.Errors;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Domain.Tests.Ecs;

/// <summary>One <c>Permissions.N</c> in, one rule or one catalogued ECS error out.</summary>
public sealed class PermissionParserTests
{
    private static readonly SecurityGroupRuleId Id = SecurityGroupRuleId.Parse("sgr-test");
    private static readonly RuleContext Vpc = new(GroupIsClassic: false, SecurityGroupType.Normal, FindPrefixList);
    private static readonly RuleContext Classic = new(GroupIsClassic: true, SecurityGroupType.Normal, FindPrefixList);
    private static readonly RuleContext Advanced = new(GroupIsClassic: false, SecurityGroupType.Enterprise, FindPrefixList);

    private static PrefixList? FindPrefixList(PrefixListId id) => id.Value switch
    {
        "pl-v4" => new PrefixList(id, "v4", false, [Cidr.Parse("198.51.100.0/24")]),
        "pl-v6" => new PrefixList(id, "v6", true, [Cidr.Parse("2001:db8::/32")]),
        _ => null,
    };

    private static readonly PermissionFields Ssh = new() { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.1/8" };

    [Fact]
    public void MinimalIngressRule_TakesTheEcsDefaults()
    {
        var rule = PermissionParser.Parse(Direction.Ingress, Ssh, Vpc, Id).Value;
        Assert.Equal(IpProtocol.Tcp, rule.Protocol);
        Assert.Equal(PortRange.Single(22), rule.Ports);
        Assert.Equal(Verdict.Accept, rule.Policy);
        Assert.Equal(1, rule.Priority.Value);
        Assert.Equal(NicType.Intranet, rule.NicType);
        Assert.Equal(new RulePeer.CidrBlock(Cidr.Parse("10.0.0.0/8")), rule.Peer);
        Assert.Null(rule.SourcePorts);
        Assert.Null(rule.LocalCidr);
    }

    [Fact]
    public void EveryField_IsCarried()
    {
        var rule = PermissionParser.Parse(Direction.Egress, new PermissionFields
        {
            IpProtocol = "UDP", PortRange = "53/53", SourcePortRange = "1024/65535", Policy = "drop", Priority = "7",
            DestGroupId = "sg-dns", DestGroupOwnerAccount = "acct", DestGroupOwnerId = "1234567890",
            SourceCidrIp = "10.0.0.5", Description = "no DNS but ours",
        }, Vpc, Id).Value;
        Assert.Equal(Direction.Egress, rule.Direction);
        Assert.Equal(Verdict.Drop, rule.Policy);
        Assert.Equal(7, rule.Priority.Value);
        Assert.Equal(PortRange.Create(1024, 65535), rule.SourcePorts);
        Assert.Equal(Cidr.Parse("10.0.0.5/32"), rule.LocalCidr);
        Assert.Equal(new RulePeer.Group(SecurityGroupId.Parse("sg-dns"), "acct", 1234567890), rule.Peer);
        Assert.Equal("no DNS but ours", rule.Description);
    }

    [Fact]
    public void ClassicRules_DefaultToInternet_VpcRulesAreAlwaysIntranet()
    {
        Assert.Equal(NicType.Internet, PermissionParser.Parse(Direction.Ingress, Ssh, Classic, Id).Value.NicType);
        Assert.Equal(NicType.Intranet, PermissionParser.Parse(Direction.Ingress, Ssh with { NicType = "internet" }, Vpc, Id).Value.NicType);
    }

    public static TheoryData<string, PermissionFields, string, string> Errors() => new()
    {
        { "unknown protocol", Ssh with { IpProtocol = "sctp" }, EcsErrorCodes.InvalidIpProtocolValueNotSupported, "IpProtocol" },
        { "numeric protocol", Ssh with { IpProtocol = "6" }, EcsErrorCodes.InvalidIpProtocolValueNotSupported, "IpProtocol" },
        { "reversed range", Ssh with { PortRange = "200/1" }, EcsErrorCodes.InvalidIpProtocolMalformed, "PortRange" },
        { "icmp with ports", Ssh with { IpProtocol = "ICMP", PortRange = "22/22" }, EcsErrorCodes.OperationDenied, "PortRange" },
        { "missing range", Ssh with { PortRange = null }, EcsErrorCodes.InvalidPortRangeMalformed, "PortRange" },
        { "port list for icmp", Ssh with { IpProtocol = "ICMP", PortRange = null, PortRangeListId = "prl-a" }, EcsErrorCodes.InvalidParamProtocolNotSupportPortRangeList, "PortRangeListId" },
        { "bad source ports", Ssh with { SourcePortRange = "9/1" }, EcsErrorCodes.InvalidSourcePortRangeMalformed, "SourcePortRange" },
        { "bad policy", Ssh with { Policy = "allow" }, EcsErrorCodes.InvalidPolicyMalformed, "Policy" },
        { "priority 0", Ssh with { Priority = "0" }, EcsErrorCodes.InvalidPriorityValueNotSupported, "Priority" },
        { "priority text", Ssh with { Priority = "x" }, EcsErrorCodes.InvalidPriorityMalformed, "Priority" },
        { "bad nic type", Ssh with { NicType = "wan" }, EcsErrorCodes.InvalidNicTypeValueNotSupported, "NicType" },
        { "no peer", Ssh with { SourceCidrIp = null }, EcsErrorCodes.MissingParameterSource, "SourceCidrIp" },
        { "bad mask", Ssh with { SourceCidrIp = "10.0.0.0/33" }, EcsErrorCodes.InvalidSourceCidrIpMalformed, "SourceCidrIp" },
        { "v6 in v4 field", Ssh with { SourceCidrIp = "2001:db8::/32" }, EcsErrorCodes.InvalidSourceCidrIpMalformed, "SourceCidrIp" },
        { "mapped v6", Ssh with { SourceCidrIp = null, Ipv6SourceCidrIp = "::ffff:10.0.0.0/104" }, EcsErrorCodes.InvalidParamIpv6SourceCidrIp, "Ipv6SourceCidrIp" },
        { "both families", Ssh with { Ipv6SourceCidrIp = "2001:db8::/32" }, EcsErrorCodes.InvalidParamSourceIp, "SourceCidrIp" },
        { "families mixed", Ssh with { DestCidrIp = null, Ipv6DestCidrIp = "2001:db8::1" }, EcsErrorCodes.InvalidParameterConflict, "SourceCidrIp" },
        { "icmp to v6", Ssh with { IpProtocol = "ICMP", PortRange = "-1/-1", SourceCidrIp = null, Ipv6SourceCidrIp = "::/0" }, EcsErrorCodes.InvalidParamIpv4ProtocolConflictWithIpv6Address, "SourceCidrIp" },
        { "icmpv6 to v4", Ssh with { IpProtocol = "ICMPv6", PortRange = "-1/-1" }, EcsErrorCodes.InvalidParamIpv6ProtocolConflictWithIpv4Address, "SourceCidrIp" },
        { "bad group id", Ssh with { SourceCidrIp = null, SourceGroupId = "sg-a b" }, EcsErrorCodes.InvalidSecurityGroupIdMalformed, "SourceGroupId" },
        { "description too long", Ssh with { Description = new string('d', 513) }, EcsErrorCodes.InvalidSecurityGroupDiscriptionMalformed, "Description" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void BadPermission_GetsTheEcsCode_AndPointsAtTheField(string why, PermissionFields fields, string code, string field)
    {
        var error = PermissionParser.Parse(Direction.Ingress, fields, Vpc, Id).Error;
        Assert.True(error is not null, why);
        Assert.Equal(code, error.Code);
        Assert.InRange(error.HttpStatus, 400, 499);
        Assert.Equal(field, PermissionParser.FieldOf(error, Direction.Ingress));
    }

    [Fact]
    public void AdvancedGroups_CannotReferenceGroups() =>
        Assert.Equal(EcsErrorCodes.InvalidGroupAuthParameterOperationDenied,
            PermissionParser.Parse(Direction.Ingress, Ssh with { SourceCidrIp = null, SourceGroupId = "sg-a" }, Advanced, Id).Error!.Code);

    [Fact]
    public void ClassicGroupPeers_NeedNicTypeIntranet()
    {
        var groupPeer = Ssh with { SourceCidrIp = null, SourceGroupId = "sg-a" };
        var error = PermissionParser.Parse(Direction.Ingress, groupPeer, Classic, Id).Error!;
        Assert.Equal((EcsErrorCodes.InvalidSourceGroupIdMismatch, 403), (error.Code, error.HttpStatus));
        Assert.True(PermissionParser.Parse(Direction.Ingress, groupPeer with { NicType = "intranet" }, Classic, Id).IsOk);
    }

    [Fact]
    public void ClassicGroups_TakeNeitherIpv6NorPrefixLists()
    {
        Assert.Equal(EcsErrorCodes.InvalidSecurityGroupInvalidNetworkType,
            PermissionParser.Parse(Direction.Ingress, Ssh with { SourceCidrIp = null, Ipv6SourceCidrIp = "::/0" }, Classic, Id).Error!.Code);
        Assert.Equal(EcsErrorCodes.NotSupportedClassicNetworkPrefixList,
            PermissionParser.Parse(Direction.Ingress, Ssh with { SourceCidrIp = null, SourcePrefixListId = "pl-v4" }, Classic, Id).Error!.Code);
    }

    [Fact]
    public void PeerPrecedence_CidrBeatsGroupBeatsPrefixList()
    {
        var all = Ssh with { SourceGroupId = "sg-a", SourcePrefixListId = "pl-v4" };
        Assert.IsType<RulePeer.CidrBlock>(PermissionParser.Parse(Direction.Ingress, all, Vpc, Id).Value.Peer);
        Assert.IsType<RulePeer.Group>(PermissionParser.Parse(Direction.Ingress, all with { SourceCidrIp = null }, Vpc, Id).Value.Peer);
        Assert.IsType<RulePeer.PrefixList>(PermissionParser.Parse(Direction.Ingress, all with { SourceCidrIp = null, SourceGroupId = null }, Vpc, Id).Value.Peer);
    }

    [Fact]
    public void Identity_IgnoresDescription_ButNotPriority()
    {
        var a = PermissionParser.Parse(Direction.Ingress, Ssh with { Description = "a" }, Vpc, Id).Value;
        var b = PermissionParser.Parse(Direction.Ingress, Ssh with { Description = "b", SourceCidrIp = "10.0.0.0/8" }, Vpc, SecurityGroupRuleId.Parse("sgr-other")).Value;
        var c = PermissionParser.Parse(Direction.Ingress, Ssh with { Priority = "2" }, Vpc, Id).Value;
        Assert.Equal(a.Identity, b.Identity);
        Assert.NotEqual(a.Identity, c.Identity);
    }
}
