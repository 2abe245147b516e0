using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

public sealed class SecurityGroupLifecycleTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

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
        await _s.Api.CallAsync("DeleteVSwitch", new { RegionId = Region, VSwitchId = vsw }, ApiVersions.Vpc);
        await _s.Api.CallAsync("DeleteVpc", new { RegionId = Region, VpcId = vpc }, ApiVersions.Vpc);
    }

    [Fact]
    public async Task DescribeSecurityGroups_PagesBothWays_NotMixed()
    {
        var vpc = await _s.VpcAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(await _s.GroupAsync(vpc, $"page{i}"));
        var expected = ids.Order(StringComparer.Ordinal).Reverse().ToList(); // descending ID, as ECS lists them

        var pages = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            var answer = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, PageNumber = page, PageSize = 2 });
            Assert.Equal((5, page, 2), (answer.GetProperty("TotalCount").GetInt32(), answer.GetProperty("PageNumber").GetInt32(), answer.GetProperty("PageSize").GetInt32()));
            pages.AddRange(answer.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
        }
        Assert.Equal(expected, pages);

        var tokens = new List<string>();
        string? token = null;
        do
        {
            var answer = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, MaxResults = 2, NextToken = token });
            Assert.False(answer.TryGetProperty("TotalCount", out _));
            tokens.AddRange(answer.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
            token = answer.Str("NextToken") is { Length: > 0 } t ? t : null;
        }
        while (token is not null);
        Assert.Equal(expected, tokens);

        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, MaxResults = 2, PageNumber = 1 }), "NotSupported.PageNumberAndPageSize", 400);
        var filtered = await _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupIds = System.Text.Json.JsonSerializer.Serialize(new[] { ids[0], ids[3], "sg-nothere" }) });
        Assert.Equal(2, filtered.Items("SecurityGroups", "SecurityGroup").Count());
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupIds = "sg-a,sg-b" }), "InvalidParameter", 400);
    }

    [Fact]
    public async Task AGroupOfAnotherRegion_IsNotFound()
    {
        var sg = await _s.GroupAsync(await _s.VpcAsync(), "hangzhou");
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("AuthorizeSecurityGroup", new { RegionId = "cn-shanghai", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "1/1", SourceCidrIp = "0.0.0.0/0" }),
            "InvalidSecurityGroupId.NotFound", 404);
    }
}
