using System.Text.Json;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// <c>ResourceGroupId</c> kept on security groups and instances (set on create, moved by
/// JoinResourceGroup), filtered by and returned; <c>ServiceManaged</c> filters too. Without it a
/// Terraform configuration with <c>resource_group_id</c> shows a diff on every plan.
/// </summary>
public sealed class ResourceGroupTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;
    private string _vpc = "";
    private string _vsw = "";

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync();
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
        _vpc = await _s.VpcAsync();
        _vsw = await _s.VSwitchAsync(_vpc);
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private async Task<List<(string Id, string ResourceGroupId)>> Groups(object? filter = null) =>
        [.. (await _s.Api.CallAsync("DescribeSecurityGroups", EcsClient(new { RegionId = Region }, filter))).Items("SecurityGroups", "SecurityGroup").Select(g => (g.Str("SecurityGroupId"), g.Str("ResourceGroupId"))).OrderBy(g => g.Item1, StringComparer.Ordinal)];

    private async Task<List<(string Id, string ResourceGroupId)>> Instances(object? filter = null) =>
        [.. (await _s.Api.CallAsync("DescribeInstances", EcsClient(new { RegionId = Region }, filter))).Items("Instances", "Instance").Select(i => (i.Str("InstanceId"), i.Str("ResourceGroupId"))).OrderBy(i => i.Item1, StringComparer.Ordinal)];

    private static IEnumerable<KeyValuePair<string, string>> EcsClient(object a, object? b) =>
        Palisade.Client.EcsClient.Flatten(a).Concat(b is null ? [] : Palisade.Client.EcsClient.Flatten(b));

    [Fact]
    public async Task ResourceGroups_AreKept_Filtered_Returned_AndMovedByJoinResourceGroup()
    {
        var plain = await _s.GroupAsync(_vpc, "plain");
        var prod = (await _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = _vpc, SecurityGroupName = "prod", ResourceGroupId = "rg-prod1" })).Str("SecurityGroupId");
        var instance = (await _s.Api.CallAsync("RunInstances", new { RegionId = Region, ImageId = "img", InstanceType = "ecs.g7.large", SecurityGroupId = prod, VSwitchId = _vsw, ResourceGroupId = "rg-prod1" }))
            .Items("InstanceIdSets", "InstanceIdSet").Single().GetString()!;
        var other = (await _s.RunAsync(plain, _vsw)).Single();

        Assert.Equal([(plain, ""), (prod, "rg-prod1")], (await Groups()).OrderBy(g => g.Id == plain ? 0 : 1).ToList());
        Assert.Equal([(prod, "rg-prod1")], await Groups(new { ResourceGroupId = "rg-prod1" }));
        Assert.Empty(await Groups(new { ResourceGroupId = "rg-other" }));
        Assert.Equal([(instance, "rg-prod1")], await Instances(new { ResourceGroupId = "rg-prod1" }));
        Assert.Equal("", (await _s.InstanceAsync(other)).Str("ResourceGroupId"));

        // ServiceManaged: no Palisade resource is managed by a cloud service.
        Assert.Equal(2, (await Groups(new { ServiceManaged = "false" })).Count);
        Assert.Empty(await Groups(new { ServiceManaged = "true" }));
        Assert.Empty(await Instances(new { ServiceManaged = "true" }));

        // JoinResourceGroup moves a group and an instance; doing it again changes nothing.
        foreach (var _ in new[] { 1, 2 })
        {
            await _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = plain, ResourceType = "securitygroup", ResourceGroupId = "rg-prod1" });
            await _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = other, ResourceType = "instance", ResourceGroupId = "rg-prod1" });
        }
        Assert.Equal(2, (await Groups(new { ResourceGroupId = "rg-prod1" })).Count);
        Assert.Equal(2, (await Instances(new { ResourceGroupId = "rg-prod1" })).Count);
        await _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = prod, ResourceType = "securitygroup", ResourceGroupId = "rg-stage" });
        Assert.Equal([(prod, "rg-stage")], await Groups(new { ResourceGroupId = "rg-stage" }));
    }

    [Fact]
    public async Task BadResourceGroupRequests_AreRefused_AndChangeNothing()
    {
        var sg = await _s.GroupAsync(_vpc, "web");
        var other = _plane.Client(_plane.NewAccount());
        var theirs = (await other.CallAsync("CreateSecurityGroup", new { RegionId = Region, SecurityGroupName = "theirs" })).Str("SecurityGroupId");
        var before = JsonSerializer.Serialize(await Groups());

        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = _vpc, SecurityGroupName = "xx", ResourceGroupId = "prod" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, ResourceGroupId = "rg-" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = sg, ResourceType = "disk", ResourceGroupId = "rg-a" }), "InvalidResourceType.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = sg, ResourceType = "securitygroup" }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = sg, ResourceType = "securitygroup", ResourceGroupId = "rg-a b" }), "InvalidParameter", 400);
        // Another account's group is not found, and stays where it is.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = theirs, ResourceType = "securitygroup", ResourceGroupId = "rg-a" }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("JoinResourceGroup", new { RegionId = Region, ResourceId = "i-nothere000000000000", ResourceType = "instance", ResourceGroupId = "rg-a" }), "InvalidInstanceId.NotFound", 404);
        Assert.Equal(before, JsonSerializer.Serialize(await Groups()));
        Assert.Equal("", (await other.CallAsync("DescribeSecurityGroups", new { RegionId = Region })).Items("SecurityGroups", "SecurityGroup").Single().Str("ResourceGroupId"));
    }
}
