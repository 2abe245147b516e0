using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

public sealed class SecurityGroupLifecycleTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    [Fact]
    public async Task CreateDescribeModifyDelete()
    {
        var vpc = await _s.VpcAsync();
        var sg = await _s.GroupAsync(vpc, "web");
        var list = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region });
        var item = Assert.Single(list.Items("SecurityGroups", "SecurityGroup"));
        Assert.Equal(sg, item.Str("SecurityGroupId"));
        Assert.Equal("web", item.Str("SecurityGroupName"));
        Assert.Equal(vpc, item.Str("VpcId"));
        Assert.Equal("normal", item.Str("SecurityGroupType"));
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());

        await _s.Api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = sg, SecurityGroupName = "web2", Description = "front end" });
        await _s.Api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = sg, InnerAccessPolicy = "drop" });
        var attribute = await _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = sg });
        Assert.Equal("web2", attribute.Str("SecurityGroupName"));
        Assert.Equal("front end", attribute.Str("Description"));
        Assert.Equal("Drop", attribute.Str("InnerAccessPolicy"));
        Assert.Empty(attribute.Items("Permissions", "Permission"));

        await _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg });
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = sg }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg }), "InvalidSecurityGroup.NotFound", 404);
    }

    [Fact]
    public async Task DeleteIsBlockedByMembersAndReferences_AndAllowedOnceTheyAreGone()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var redis = await _s.GroupAsync(vpc, "redis");
        await _s.AuthorizeAsync(redis, new { IpProtocol = "tcp", PortRange = "6379/6379", SourceGroupId = web });
        var instances = await _s.RunAsync(web, vsw, 2);

        var e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = web }), "DependencyViolation", 403);
        Assert.Contains("instance", e.EcsMessage);
        await _s.Api.CallAsync("DeleteInstances", new { RegionId = Region, InstanceId = instances, Force = true });
        e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = web }), "DependencyViolation", 403);
        Assert.Contains("authorized in another", e.EcsMessage);
        await _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = redis });
        await _s.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = web });
        await _s.Api.CallAsync("DeleteVSwitch", new { RegionId = Region, VSwitchId = vsw }, Client.EcsClient.VpcVersion);
        await _s.Api.CallAsync("DeleteVpc", new { RegionId = Region, VpcId = vpc }, Client.EcsClient.VpcVersion);
    }
}
