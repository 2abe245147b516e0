using Palisade.Client;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

public sealed class TagAndVpcActionTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Tags_SetListFilterRemove()
    {
        var vpc = await _s.VpcAsync();
        var a = await _s.GroupAsync(vpc, "alpha");
        var b = await _s.GroupAsync(vpc, "beta");
        await _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { a, b }, Tag = new[] { new { Key = "env", Value = "prod" }, new { Key = "team", Value = "core" } } });
        await _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b }, Tag = new[] { new { Key = "env", Value = "test" } } });

        var listed = await _s.Api.CallAsync("ListTagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { a } });
        Assert.Equal(["env=prod", "team=core"], listed.Items("TagResources", "TagResource").Select(t => $"{t.Str("TagKey")}={t.Str("TagValue")}"));
        var prod = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, Tag = new[] { new { Key = "env", Value = "prod" } } });
        var item = Assert.Single(prod.Items("SecurityGroups", "SecurityGroup"));
        Assert.Equal(a, item.Str("SecurityGroupId"));
        Assert.Equal(2, item.Items("Tags", "Tag").Count());
        var byTag = await _s.Api.CallAsync("ListTagResources", new { RegionId = Region, ResourceType = "securitygroup", Tag = new[] { new { Key = "env", Value = "test" } } });
        Assert.All(byTag.Items("TagResources", "TagResource"), t => Assert.Equal(b, t.Str("ResourceId")));

        await _s.Api.CallAsync("UntagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { a }, TagKey = new[] { "env" } });
        listed = await _s.Api.CallAsync("ListTagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { a } });
        Assert.Equal(["team=core"], listed.Items("TagResources", "TagResource").Select(t => $"{t.Str("TagKey")}={t.Str("TagValue")}"));
        await _s.Api.CallAsync("UntagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b }, All = true });
        listed = await _s.Api.CallAsync("ListTagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b } });
        Assert.Empty(listed.Items("TagResources", "TagResource"));
    }

    [Fact]
    public async Task Tags_Errors()
    {
        var sg = await _s.GroupAsync(await _s.VpcAsync(), "alpha");
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceId = new[] { sg }, Tag = new[] { new { Key = "k", Value = "v" } } }), "MissingParameter.ResourceType", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "disk", ResourceId = new[] { sg }, Tag = new[] { new { Key = "k", Value = "v" } } }), "InvalidResourceType.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { "sg-nothere" }, Tag = new[] { new { Key = "k", Value = "v" } } }), "InvalidResourceId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { sg }, Tag = new[] { new { Key = "aliyun:x", Value = "v" } } }), "InvalidTagKey.Malformed", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { sg }, Tag = new[] { new { Key = "k", Value = "1" }, new { Key = "K", Value = "2" } } }), "Duplicate.TagKey", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { sg }, Tag = Enumerable.Range(0, 21).Select(i => new { Key = $"k{i}", Value = "v" }).ToArray() }), "NumberExceed.Tags", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { sg } }), "MissingParameter.Tags", 404);
    }

    [Fact]
    public async Task Vpcs_AndVSwitches()
    {
        var vpc = await _s.VpcAsync("10.0.0.0/8");
        var vsw = await _s.VSwitchAsync(vpc, "10.1.0.0/24");
        await ApiAssert.FailsAsync(() => _s.VSwitchAsync(vpc, "10.1.0.128/25"), "InvalidCidrBlock.Overlapped", 400);
        await ApiAssert.FailsAsync(() => _s.VSwitchAsync(vpc, "192.168.0.0/24"), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.VSwitchAsync(vpc, "10.2.0.0/30"), "InvalidCirdrBlock.MaskLength", 400);
        await ApiAssert.FailsAsync(() => _s.VSwitchAsync(vpc, "10.3.0.0/24", "cn-hangzhou-z"), "InvalidZoneId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.VpcAsync("100.64.0.0/16"), "InvalidCidrBlock.Malformed", 400);

        var vpcs = await _s.Api.CallAsync("DescribeVpcs", new { RegionId = Region }, ApiVersions.Vpc);
        var described = Assert.Single(vpcs.Items("Vpcs", "Vpc"));
        Assert.Equal(vsw, described.Items("VSwitchIds", "VSwitchId").Single().GetString());
        var vswitches = await _s.Api.CallAsync("DescribeVSwitches", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc);
        Assert.Equal(252, Assert.Single(vswitches.Items("VSwitches", "VSwitch")).GetProperty("AvailableIpAddressCount").GetInt32());

        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteVpc", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc), "DependencyViolation.VSwitch", 400);
        await _s.Api.CallAsync("DeleteVSwitch", new { RegionId = Region, VSwitchId = vsw }, ApiVersions.Vpc);
        var sg = await _s.GroupAsync(vpc, "in-the-vpc");
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteVpc", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc), "DependencyViolation.SecurityGroup", 400);
        await _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg });
        await _s.Api.CallAsync("DeleteVpc", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc);
        await ApiAssert.FailsAsync(() => _s.GroupAsync(vpc, "gone"), "InvalidVpcId.NotFound", 404);
    }

    [Fact]
    public async Task RegionsAndZones()
    {
        var zones = await _s.Api.CallAsync("DescribeZones", new { RegionId = Region });
        Assert.Contains(zones.Items("Zones", "Zone"), z => z.Str("ZoneId") == "cn-hangzhou-h");
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeZones", new { }), "MissingParameter.RegionId", 400);
    }
}
