using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The request shapes of terraform-provider-alicloud's <c>alicloud_security_group_rule</c>: Modify
/// without <c>SecurityGroupRuleId</c> (the rule located by its attributes, sent twice), and the
/// read-back by <c>DescribeSecurityGroupAttribute</c> with <c>Direction</c> and the <c>NicType</c> of
/// its resource ID (<c>&lt;nil&gt;</c> when <c>nic_type</c> is unset).
/// </summary>
public sealed class ModifyByAttributesTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;
    private string _sg = "";
    private string _vpc = "";

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
        _vpc = await _s.VpcAsync();
        _sg = await _s.GroupAsync(_vpc, "web");
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private async Task<string> Snapshot() => string.Join("\n", (await _s.RulesAsync(_sg)).Select(r => r.GetRawText()));

    [Fact]
    public async Task Modify_ByAttributes_ChangesTheDescription_OfTheOneRuleTheyName_Twice()
    {
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "ssh" });
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Priority = "5", Policy = "drop" });
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "udp", PortRange = "53/53", DestGroupId = await _s.GroupAsync(_vpc, "dns") }, egress: true);
        var before = await _s.RulesAsync(_sg);

        // As Terraform sends it: lower-case protocol and policy, every field, NicType read back, twice.
        var terraform = new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Policy = "accept", Priority = "1", NicType = "intranet", Description = "ssh from the office" };
        await _s.Api.CallAsync("ModifySecurityGroupRule", terraform);
        await _s.Api.CallAsync("ModifySecurityGroupRule", terraform);
        var after = await _s.RulesAsync(_sg);
        Assert.Equal(before.Count, after.Count);
        var changed = after.Single(r => r.Str("Description") == "ssh from the office");
        Assert.Equal(before.Single(r => r.Str("Description") == "ssh").Str("SecurityGroupRuleId"), changed.Str("SecurityGroupRuleId"));
        Assert.Equal((1, "Accept"), (changed.GetProperty("Priority").GetInt32(), changed.Str("Policy")));
        Assert.Equal("", after.Single(r => r.GetProperty("Priority").GetInt32() == 5).Str("Description"));

        // Description="" clears it (Terraform sends that when the description is removed).
        await _s.Api.CallAsync("ModifySecurityGroupRule", terraform with { Description = "" });
        Assert.Equal("", (await _s.RulesAsync(_sg)).Single(r => r.Str("SecurityGroupRuleId") == changed.Str("SecurityGroupRuleId")).Str("Description"));

        // Egress: the Dest… fields name the peer.
        var dnsGroup = (await _s.RulesAsync(_sg, "egress")).Single().Str("DestGroupId");
        await _s.Api.CallAsync("ModifySecurityGroupEgressRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "UDP", PortRange = "53/53", DestGroupId = dnsGroup, Description = "dns" });
        Assert.Equal("dns", (await _s.RulesAsync(_sg, "egress")).Single().Str("Description"));
    }

    [Fact]
    public async Task Modify_ByAttributes_ThatMatchNothing_OrSeveral_IsRefused_AndChangesNothing()
    {
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Priority = "5" });
        var before = await Snapshot();
        var ids = (await _s.RulesAsync(_sg)).Select(r => r.Str("SecurityGroupRuleId")).Order(StringComparer.Ordinal).ToList();

        // Nothing matches: ECS's not-found error of this form.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "23/23", SourceCidrIp = "10.0.0.0/8", Description = "x" }), "SecurityGroupRule.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Priority = "9", Description = "x" }), "SecurityGroupRule.NotFound", 404);
        // An ingress rule is not found by the egress action.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupEgressRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/22", DestCidrIp = "10.0.0.0/8", Priority = "1", Description = "x" }), "SecurityGroupRule.NotFound", 404);

        // Without Priority the two rules both match: refused, naming both.
        var several = await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "x" }), "InvalidParam.InvalidModifyRuleRequest", 400);
        Assert.Contains($"match 2 rules ({ids[0]}, {ids[1]})", several.EcsMessage, StringComparison.Ordinal);

        // The locating fields must be there, and be valid.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "x" }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", SourceCidrIp = "10.0.0.0/8", Description = "x" }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/1", SourceCidrIp = "10.0.0.0/8", Priority = "1", Description = "x" }), "InvalidIpProtocol.Malformed", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = _sg, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Priority = "1", Description = new string('d', 513) }), "InvalidSecurityGroupDiscription.Malformed", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = "sg-nothere0000000000", IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Description = "x" }), "InvalidSecurityGroupId.NotFound", 404);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task ReadBack_AsTerraformSendsIt_WithNicTypeNil_FindsTheRule()
    {
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        await _s.AuthorizeAsync(_sg, new { IpProtocol = "tcp", PortRange = "443/443", DestCidrIp = "0.0.0.0/0" }, egress: true);
        foreach (var nic in new[] { "<nil>", "intranet", "internet" })
        {
            var answer = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _sg, Direction = "ingress", NicType = nic });
            var rule = Assert.Single(answer.Items("Permissions", "Permission"));
            Assert.Equal(("ingress", "tcp", "443/443", "0.0.0.0/0", "accept", "1", "intranet"),
                (rule.Str("Direction"), rule.Str("IpProtocol").ToLowerInvariant(), rule.Str("PortRange"), rule.Str("SourceCidrIp"), rule.Str("Policy").ToLowerInvariant(), rule.GetProperty("Priority").GetRawText(), rule.Str("NicType")));
        }
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _sg, Direction = "ingress", NicType = "nil" }), "InvalidNicType.ValueNotSupported", 400);
    }

    [Fact]
    public async Task ReadBack_OfAClassicGroup_WithNicTypeNil_IsTheInternetNic_AsWithoutNicType()
    {
        var classic = await _s.GroupAsync(null, "classic");
        await _s.AuthorizeAsync(classic, new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        await _s.AuthorizeAsync(classic, new { IpProtocol = "tcp", PortRange = "8080/8080", SourceCidrIp = "10.0.0.0/8", NicType = "intranet" });
        var nil = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = classic, Direction = "ingress", NicType = "<nil>" });
        var none = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = classic, Direction = "ingress" });
        Assert.Equal("80/80", Assert.Single(nil.Items("Permissions", "Permission")).Str("PortRange"));
        Assert.Equal(nil.GetProperty("Permissions").GetRawText(), none.GetProperty("Permissions").GetRawText());

        // In a classic group NicType locates: the intranet rule, by its NIC.
        await _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = classic, IpProtocol = "tcp", PortRange = "8080/8080", SourceCidrIp = "10.0.0.0/8", NicType = "intranet", Description = "inside" });
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("ModifySecurityGroupRule", new { RegionId = Region, SecurityGroupId = classic, IpProtocol = "tcp", PortRange = "8080/8080", SourceCidrIp = "10.0.0.0/8", NicType = "internet", Description = "outside" }), "SecurityGroupRule.NotFound", 404);
        var intranet = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = classic, Direction = "ingress", NicType = "intranet" });
        Assert.Equal("inside", Assert.Single(intranet.Items("Permissions", "Permission")).Str("Description"));
    }
}
