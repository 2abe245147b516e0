using Palisade.Domain.Quotas;
using System.Text.Json;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

public sealed class InstanceActionTests : ControlPlaneTest
{
    private Scenario _s = null!;
    private string _vpc = "";
    private string _vsw = "";
    private string _web = "";

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(new Limits { RulesPerNic = 3, BasicVpcGroupPrivateAddresses = 3 });

    protected override async Task SetUpAsync()
    {
        _s = NewScenario();
        _vpc = await _s.VpcAsync();
        _vsw = await _s.VSwitchAsync(_vpc);
        _web = await _s.GroupAsync(_vpc, "web");
    }

    private Task<JsonElement> Call(string action, object parameters) => _s.Api.CallAsync(action, parameters);

    [Fact]
    public async Task RunInstances_AllocatesFromTheVSwitch_AndDescribesLikeEcs()
    {
        var ids = await _s.RunAsync(_web, _vsw, 2);
        Assert.Equal(2, ids.Count);
        var first = await _s.InstanceAsync(ids[0]);
        Assert.Equal("Running", first.Str("Status"));
        Assert.Equal("vpc", first.Str("InstanceNetworkType"));
        Assert.Equal(_web, Assert.Single(first.Items("SecurityGroupIds", "SecurityGroupId")).GetString());
        var vpcAttributes = first.GetProperty("VpcAttributes");
        Assert.Equal((_vpc, _vsw), (vpcAttributes.Str("VpcId"), vpcAttributes.Str("VSwitchId")));
        Assert.Equal("192.168.1.1", Assert.Single(vpcAttributes.Items("PrivateIpAddress", "IpAddress")).GetString());
        var second = await _s.InstanceAsync(ids[1]);
        Assert.Equal("192.168.1.2", second.GetProperty("VpcAttributes").Items("PrivateIpAddress", "IpAddress").Single().GetString());

        var byGroup = await Call("DescribeInstances", new { RegionId = Region, SecurityGroupId = _web });
        Assert.Equal(2, byGroup.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task RunInstances_Errors()
    {
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web }), "InvalidVSwitchId.Necessary", 400);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = "sg-nothere", VSwitchId = _vsw }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw, Amount = 0 }), "InvalidMaxAmount.Malformed", 400);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw, PrivateIpAddress = "10.0.0.5" }), "InvalidPrivateIpAddress", 400);
        var otherVpc = await _s.VpcAsync("172.16.0.0/12");
        var otherVsw = await _s.VSwitchAsync(otherVpc, "172.16.1.0/24");
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = otherVsw }), "InvalidParameter.Mismatch", 400);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = "mars-1", ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw }), "InvalidRegionId.NotFound", 404);
        // A full group refuses more members (capacity set to 3 private addresses here).
        await _s.RunAsync(_web, _vsw, 3);
        await ApiAssert.FailsAsync(() => _s.RunAsync(_web, _vsw), "SecurityGroupInstanceLimitExceed", 403);
    }

    [Fact]
    public async Task JoinAndLeave_WithEveryPrecondition()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var groups = new List<string>();
        for (var i = 0; i < 5; i++)
            groups.Add(await _s.GroupAsync(_vpc, $"extra{i}"));
        for (var i = 0; i < 4; i++)
            await Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = groups[i] });
        Assert.Equal(5, (await _s.InstanceAsync(instance)).Items("SecurityGroupIds", "SecurityGroupId").Count());
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = groups[4] }), "InstanceSecurityGroupLimitExceeded", 400);
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = groups[0] }), "InvalidInstanceId.AlreadyExists", 403);
        await ApiAssert.FailsAsync(() => Call("LeaveSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = groups[4] }), "InvalidSecurityGroupAssociation.NotFound", 400);
        foreach (var g in groups.Take(4))
            await Call("LeaveSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = g });
        await ApiAssert.FailsAsync(() => Call("LeaveSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = _web }), "InstanceLastSecurityGroup", 403);

        var advanced = await _s.GroupAsync(_vpc, "advanced", "enterprise");
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = advanced }), "InvalidOperation.MultiGroupType", 400);
        var classic = await _s.GroupAsync(null, "classic");
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = classic }), "InvalidInstanceId.Mismatch", 400);
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = "i-nothere", SecurityGroupId = classic }), "InvalidInstanceId.NotFound", 404);
    }

    [Fact]
    public async Task ClassicInstances_GetIntranetAndInternetAddresses_AndCannotJoinVpcGroups()
    {
        var classic = await _s.GroupAsync(null, "classic");
        var instance = (await _s.RunAsync(classic, null)).Single();
        var described = await _s.InstanceAsync(instance);
        Assert.Equal("classic", described.Str("InstanceNetworkType"));
        Assert.StartsWith("10.", described.Items("InnerIpAddress", "IpAddress").Single().GetString());
        Assert.StartsWith("198.19.", described.Items("PublicIpAddress", "IpAddress").Single().GetString());
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = _web }), "InvalidInstanceId.Mismatch", 400);
    }

    [Fact]
    public async Task TheRulesOfANic_StayUnderTheLimit()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var heavy = await _s.GroupAsync(_vpc, "heavy");
        await _s.AuthorizeAsync(heavy, new { Permissions = Enumerable.Range(1, 3).Select(p => new { IpProtocol = "tcp", PortRange = $"{p}/{p}", SourceCidrIp = "0.0.0.0/0" }).ToArray() });
        await _s.AuthorizeAsync(_web, new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = heavy }), "AclLimitExceed", 403);
        await _s.AuthorizeAsync(_web, new { Permissions = new[] { new { IpProtocol = "tcp", PortRange = "81/81", SourceCidrIp = "0.0.0.0/0" }, new { IpProtocol = "tcp", PortRange = "82/82", SourceCidrIp = "0.0.0.0/0" } } });
        await ApiAssert.FailsAsync(() => _s.AuthorizeAsync(_web, new { IpProtocol = "tcp", PortRange = "83/83", SourceCidrIp = "0.0.0.0/0" }), "AclLimitExceed", 403);
    }

    [Fact]
    public async Task StateChanges_ModifyAndDelete()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        await ApiAssert.FailsAsync(() => Call("StartInstance", new { InstanceId = instance }), "IncorrectInstanceStatus", 403);
        await ApiAssert.FailsAsync(() => Call("DeleteInstance", new { InstanceId = instance }), "IncorrectInstanceStatus", 403);
        await Call("StopInstance", new { InstanceId = instance });
        Assert.Equal("Stopped", (await _s.InstanceAsync(instance)).Str("Status"));
        await Call("StartInstance", new { InstanceId = instance });

        var other = await _s.GroupAsync(_vpc, "other");
        await Call("ModifyInstanceAttribute", new { InstanceId = instance, InstanceName = "renamed", SecurityGroupIds = new[] { other } });
        var described = await _s.InstanceAsync(instance);
        Assert.Equal("renamed", described.Str("InstanceName"));
        Assert.Equal(other, described.Items("SecurityGroupIds", "SecurityGroupId").Single().GetString());

        await Call("DeleteInstance", new { InstanceId = instance, Force = true });
        await ApiAssert.FailsAsync(() => Call("StopInstance", new { InstanceId = instance }), "InvalidInstanceId.NotFound", 404);
        await Call("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = other });
    }

    [Fact]
    public async Task CreateInstance_LeavesItStopped()
    {
        var created = await Call("CreateInstance", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw });
        Assert.Equal("Stopped", (await _s.InstanceAsync(created.Str("InstanceId"))).Str("Status"));
    }

    [Theory]
    [InlineData("web*", "web-1", true)]
    [InlineData("*-1", "web-1", true)]
    [InlineData("w*b*1", "web-1", true)]
    [InlineData("web", "web-1", false)]
    [InlineData("*x*", "web-1", false)]
    [InlineData("a*a", "a", false)]
    [InlineData("*", "", true)]
    public void InstanceNameWildcards(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Palisade.Server.Actions.Instances.DescribeInstances.Matches(pattern, name));

    [Fact]
    public async Task APathologicalWildcard_MatchesNothing()
    {
        // Backtracking on this pattern would take ages; the blame-hang timeout of the run catches a regression.
        var found = await _s.Api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceName = string.Concat(Enumerable.Repeat("*a", 60)) + "*b" });
        Assert.Empty(found.Items("Instances", "Instance"));
    }
}
