using Palisade.Domain.Quotas;
using System.Text.Json;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>Authorize, Revoke and Modify, ingress and egress: success, every error path, and that a refused request changes nothing.</summary>
public sealed class RuleActionTests : ControlPlaneTest
{
    private Scenario _s = null!;
    private string _vpc = "";
    private string _sg = "";

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(new Limits { RulesPerGroup = 6, GroupReferenceRulesPerGroup = 2 });

    protected override async Task SetUpAsync()
    {
        _s = NewScenario();
        _vpc = await _s.VpcAsync();
        _sg = await _s.GroupAsync(_vpc, "web");
    }

    private Task Authorize(object rule, bool egress = false) => _s.AuthorizeAsync(_sg, rule, egress);

    private async Task<string> Snapshot() => string.Join("\n", (await _s.RulesAsync(_sg)).Select(r => r.GetRawText()));

    [Fact]
    public async Task Authorize_StoresEveryField_Normalised()
    {
        await Authorize(new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.1/8", Policy = "accept", Priority = "5", Description = "ssh", SourcePortRange = "1024/65535", DestCidrIp = "192.168.1.10" });
        var rule = Assert.Single(await _s.RulesAsync(_sg));
        Assert.StartsWith("sgr-", rule.Str("SecurityGroupRuleId"));
        Assert.Equal(("ingress", "TCP", "22/22", "Accept", 5), (rule.Str("Direction"), rule.Str("IpProtocol"), rule.Str("PortRange"), rule.Str("Policy"), rule.GetProperty("Priority").GetInt32()));
        Assert.Equal("10.0.0.0/8", rule.Str("SourceCidrIp"));
        Assert.Equal("192.168.1.10", rule.Str("DestCidrIp"));
        Assert.Equal("1024/65535", rule.Str("SourcePortRange"));
        Assert.Equal("intranet", rule.Str("NicType"));
    }

    [Fact]
    public async Task AuthorizingAnExistingRule_SucceedsAndAddsNothing()
    {
        await Authorize(new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        await Authorize(new { IpProtocol = "TCP", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "again, other words" });
        Assert.Single(await _s.RulesAsync(_sg));
    }

    [Fact]
    public async Task ABatch_IsAllOrNothing()
    {
        var before = await Snapshot();
        await ApiAssert.FailsAsync(() => Authorize(new { Permissions = new object[]
        {
            new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" },
            new { IpProtocol = "tcp", PortRange = "200/1", SourceCidrIp = "0.0.0.0/0" },
        } }), "InvalidIpProtocol.Malformed", 400);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task TwoEqualRulesInOneRequest_AreDuplicatePermissions() =>
        await ApiAssert.FailsAsync(() => Authorize(new { Permissions = new object[]
        {
            new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" },
            new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "same rule" },
        } }), "InvalidParam.DuplicatePermissions", 400);

    [Fact]
    public async Task PermissionsAndTopLevelFields_CannotBeMixed() =>
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0", Permissions = new object[] { new { IpProtocol = "udp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0" } } }),
            "InvalidParam.Permissions", 400);

    public static TheoryData<string, object, string, int> BadRules() => new()
    {
        { "no protocol", new { PortRange = "1/2", SourceCidrIp = "0.0.0.0/0" }, "InvalidIpProtocol.ValueNotSupported", 400 },
        { "reversed ports", new { IpProtocol = "tcp", PortRange = "200/1", SourceCidrIp = "0.0.0.0/0" }, "InvalidIpProtocol.Malformed", 400 },
        { "icmp with ports", new { IpProtocol = "icmp", PortRange = "1/1", SourceCidrIp = "0.0.0.0/0" }, "OperationDenied", 400 },
        { "no ports", new { IpProtocol = "tcp", SourceCidrIp = "0.0.0.0/0" }, "InvalidPortRange.Malformed", 400 },
        { "bad ports", new { IpProtocol = "tcp", PortRange = "1-2", SourceCidrIp = "0.0.0.0/0" }, "InvalidParam.PortRange", 400 },
        { "no peer", new { IpProtocol = "tcp", PortRange = "1/2" }, "MissingParameter.Source", 400 },
        { "bad cidr", new { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "10.0.0.0/40" }, "InvalidSourceCidrIp.Malformed", 400 },
        { "priority 0", new { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0", Priority = "0" }, "InvalidPriority.ValueNotSupported", 400 },
        { "bad policy", new { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0", Policy = "allow" }, "InvalidPolicy.Malformed", 400 },
        { "unknown peer group", new { IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = "sg-nothere" }, "InvalidSourceGroupId.NotFound", 404 },
        { "unknown prefix list", new { IpProtocol = "tcp", PortRange = "1/2", SourcePrefixListId = "pl-nothere" }, "InvalidPrefixListId.NotFound", 404 },
        { "icmpv6 to v4", new { IpProtocol = "icmpv6", PortRange = "-1/-1", SourceCidrIp = "0.0.0.0/0" }, "InvalidParam.Ipv6ProtocolConflictWithIpv4Address", 400 },
        { "both families", new { IpProtocol = "tcp", PortRange = "1/2", SourceCidrIp = "0.0.0.0/0", Ipv6SourceCidrIp = "::/0" }, "InvalidParam.SourceIp", 400 },
    };

    [Theory]
    [MemberData(nameof(BadRules))]
    public async Task BadRule_IsRefusedWithItsCode_AndChangesNothing(string why, object rule, string code, int status)
    {
        var before = await Snapshot();
        await ApiAssert.FailsAsync(() => Authorize(rule), code, status);
        Assert.True(before == await Snapshot(), why);
    }

    [Fact]
    public async Task GroupPeers_MustBeInTheSameVpc_AndNotTheGroupItself()
    {
        var other = await _s.GroupAsync(await _s.VpcAsync("172.16.0.0/12"), "elsewhere");
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = other }), "InvalidSourceGroupId.Mismatch", 400);
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = _sg }), "InvalidParamter.Conflict", 403);
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "1/2", DestGroupId = _sg }, egress: true), "InvalidSecurityGroup.IsSame", 403);
    }

    [Fact]
    public async Task AdvancedGroups_CannotReferenceGroups()
    {
        var advanced = await _s.GroupAsync(_vpc, "advanced", "enterprise");
        var peer = await _s.GroupAsync(_vpc, "peer");
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(advanced, new { IpProtocol = "tcp", PortRange = "1/2", SourceGroupId = peer }), "InvalidGroupAuthParameter.OperationDenied", 400);
    }

    [Fact]
    public async Task Limits_RulesPerGroup_AndGroupReferences()
    {
        var peers = new List<string>();
        for (var i = 0; i < 3; i++)
            peers.Add(await _s.GroupAsync(_vpc, $"peer{i}"));
        await Authorize(new { IpProtocol = "tcp", PortRange = "1/1", SourceGroupId = peers[0] });
        await Authorize(new { IpProtocol = "tcp", PortRange = "1/1", SourceGroupId = peers[1] });
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "1/1", SourceGroupId = peers[2] }), "AuthorizedGroupRule.LimitExceed", 400);
        for (var port = 10; port < 14; port++)
            await Authorize(new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "0.0.0.0/0" });
        await ApiAssert.FailsAsync(() => Authorize(new { IpProtocol = "tcp", PortRange = "99/99", SourceCidrIp = "0.0.0.0/0" }), "AuthorizationLimitExceed", 403);
        Assert.Equal(6, (await _s.RulesAsync(_sg)).Count);
    }

    [Fact]
    public async Task Revoke_ByIdByAttributes_AndTheirErrors()
    {
        await Authorize(new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        await Authorize(new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        await Authorize(new { IpProtocol = "udp", PortRange = "53/53", DestCidrIp = "10.0.0.0/8" }, egress: true);
        var rules = await _s.RulesAsync(_sg);
        var http = rules.Single(r => r.Str("PortRange") == "80/80").Str("SecurityGroupRuleId");
        var dns = rules.Single(r => r.Str("PortRange") == "53/53").Str("SecurityGroupRuleId");

        // An egress rule's ID is unknown to the ingress action.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = new[] { dns } }), "InvalidParam.SecurityGroupRuleId", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("RevokeSecurityGroupEgress", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = new[] { http } }), "InvalidSecurityGroupRule.RuleNotExist", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = new[] { http, http } }), "InvalidParam.SecurityGroupRuleIdRepeated", 400);
        Assert.Equal(3, (await _s.RulesAsync(_sg)).Count);

        await _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = new[] { http } });
        await _s.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        // By attributes, nothing matching: success, nothing changes (ARCHITECTURE.md semantics 8).
        await _s.Api.CallAsync("RevokeSecurityGroupEgress", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "udp", PortRange = "54/54", DestCidrIp = "10.0.0.0/8" });
        var left = Assert.Single(await _s.RulesAsync(_sg));
        Assert.Equal(dns, left.Str("SecurityGroupRuleId"));
    }

    [Fact]
    public async Task Modify_ChangesTheGivenFields_KeepsIdAndPosition()
    {
        await Authorize(new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", Description = "http" });
        await Authorize(new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        var id = (await _s.RulesAsync(_sg))[0].Str("SecurityGroupRuleId");
        await _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = id, PortRange = "8080/8080", Policy = "drop", Priority = "7" });
        var rule = (await _s.RulesAsync(_sg))[0];
        Assert.Equal((id, "8080/8080", "Drop", 7, "http", "0.0.0.0/0"),
            (rule.Str("SecurityGroupRuleId"), rule.Str("PortRange"), rule.Str("Policy"), rule.GetProperty("Priority").GetInt32(), rule.Str("Description"), rule.Str("SourceCidrIp")));

        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = id, SourceGroupId = _sg }), "InvalidOperation.ModifySgRuleEntityType", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = id, IpProtocol = "icmp" }), "InvalidParam.ProtocolAndPortRangeMismatch", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = id, PortRange = "443/443", Policy = "accept", Priority = "1" }), "InvalidOperation.RuleDuplicate", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = "sgr-nothere", Priority = "2" }), "InvalidSecurityGroupRuleId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupEgressRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = id, Priority = "2" }), "InvalidSecurityGroupRuleId.NotFound", 404);
    }

    [Fact]
    public async Task ModifyEgress_ChangesTheOutboundRuleOnly_KeepingWhatIsNotGiven()
    {
        await Authorize(new { IpProtocol = "udp", PortRange = "53/53", DestCidrIp = "10.0.0.0/8", Description = "dns" }, egress: true);
        await Authorize(new { IpProtocol = "udp", PortRange = "53/53", SourceCidrIp = "10.0.0.0/8" });
        var egress = (await _s.RulesAsync(_sg, "egress")).Single();
        await _s.Api.CallAsync("ModifySecurityGroupEgressRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = egress.Str("SecurityGroupRuleId"), DestCidrIp = "10.1.0.0/16", Priority = "3" });
        var changed = (await _s.RulesAsync(_sg, "egress")).Single();
        Assert.Equal((egress.Str("SecurityGroupRuleId"), "udp", "53/53", "10.1.0.0/16", 3, "dns"),
            (changed.Str("SecurityGroupRuleId"), changed.Str("IpProtocol").ToLowerInvariant(), changed.Str("PortRange"), changed.Str("DestCidrIp"), changed.GetProperty("Priority").GetInt32(), changed.Str("Description")));
        var ingress = (await _s.RulesAsync(_sg, "ingress")).Single();
        Assert.Equal(("10.0.0.0/8", 1), (ingress.Str("SourceCidrIp"), ingress.GetProperty("Priority").GetInt32()));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupEgressRule", new { RegionId = Region, SecurityGroupId = _sg, SecurityGroupRuleId = egress.Str("SecurityGroupRuleId"), DestGroupId = _sg }), "InvalidOperation.ModifySgRuleEntityType", 400);
    }

    [Fact]
    public async Task DescribeAttribute_FiltersByDirection_AndPages()
    {
        await Authorize(new { Permissions = Enumerable.Range(1, 4).Select(p => new { IpProtocol = "tcp", PortRange = $"{p}/{p}", SourceCidrIp = "0.0.0.0/0" }).ToArray() });
        await Authorize(new { IpProtocol = "udp", PortRange = "53/53", DestCidrIp = "0.0.0.0/0" }, egress: true);
        Assert.Single(await _s.RulesAsync(_sg, "egress"));
        Assert.Equal(4, (await _s.RulesAsync(_sg, "ingress")).Count);
        await ApiAssert.FailsAsync(() => _s.RulesAsync(_sg, "inbound"), "InvalidParameter", 400);

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _sg, MaxResults = "10", NextToken = token });
            seen.AddRange(page.Items("Permissions", "Permission").Select(r => r.Str("SecurityGroupRuleId")));
            token = page.Str("NextToken") is { Length: > 0 } t ? t : null;
        }
        while (token is not null);
        Assert.Equal(5, seen.Distinct().Count());
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _sg, NextToken = "garbage" }), "InValidParameter.NextToken", 400);
    }

    [Fact]
    public async Task References_AreListed()
    {
        var peer = await _s.GroupAsync(_vpc, "peer");
        await _s.AuthorizeAsync(peer, new { IpProtocol = "tcp", PortRange = "1/1", SourceGroupId = _sg });
        var refs = await _s.Api.CallAsync("DescribeSecurityGroupReferences", new { RegionId = Region, SecurityGroupId = new[] { _sg } });
        var reference = Assert.Single(refs.Items("SecurityGroupReferences", "SecurityGroupReference"));
        Assert.Equal(peer, Assert.Single(reference.Items("ReferencingSecurityGroups", "ReferencingSecurityGroup")).Str("SecurityGroupId"));
    }

    [Fact]
    public async Task DryRun_ChecksEverything_ChangesNothing()
    {
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", DryRun = true }), "DryRunOperation", 400);
        Assert.Empty(await _s.RulesAsync(_sg));
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "200/1", SourceCidrIp = "0.0.0.0/0", DryRun = true }), "InvalidIpProtocol.Malformed", 400);
    }

    [Fact]
    public async Task ClientToken_ReplaysTheFirstAnswer()
    {
        var first = await _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = _vpc, SecurityGroupName = "once", ClientToken = "token-1" });
        var again = await _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = _vpc, SecurityGroupName = "once", ClientToken = "token-1" });
        Assert.Equal(first.Str("SecurityGroupId"), again.Str("SecurityGroupId"));
        Assert.NotEqual(first.Str("RequestId"), again.Str("RequestId"));
        var groups = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupName = "once" });
        Assert.Single(groups.Items("SecurityGroups", "SecurityGroup"));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = _vpc, SecurityGroupName = "twice", ClientToken = "token-1" }), "IdempotentParameterMismatch", 400);
    }
}
