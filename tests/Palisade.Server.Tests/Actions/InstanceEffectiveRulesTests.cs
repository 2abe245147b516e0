using Palisade.Client;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// DescribeInstanceEffectiveRules: an instance's groups pooled per direction in the order the engine
/// tries them (priority, then a drop before an accept), each rule with the group it came from, and
/// the defaults its groups' types give — what the console's instance page shows.
/// </summary>
public sealed class InstanceEffectiveRulesTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task PoolsEveryGroup_InTheOrderTheEngineTriesThem()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var ops = await _s.GroupAsync(vpc, "ops");
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0", Priority = "50" });
        await _s.AuthorizeAsync(ops, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Priority = "10" });
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0", Priority = "10", Policy = "drop" });
        await _s.AuthorizeAsync(ops, new { IpProtocol = "tcp", PortRange = "80/80", DestGroupId = web, Priority = "5" }, egress: true);
        var instance = (await _s.RunAsync(web, vsw)).Single();
        await _s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = ops });

        var answer = await _s.Api.CallAsync("DescribeInstanceEffectiveRules", new { RegionId = Region, InstanceId = instance });
        Assert.Equal((instance, "intranet"), (answer.Str("InstanceId"), answer.Str("NicType")));
        Assert.Equal(new[] { ops, web }.Order(StringComparer.Ordinal), answer.Items("SecurityGroups", "SecurityGroup").Select(g => g.Str("SecurityGroupId")));
        Assert.All(answer.Items("SecurityGroups", "SecurityGroup"), g => Assert.Equal((1, "Accept"), (g.GetProperty("MemberCount").GetInt32(), g.Str("InnerAccessPolicy"))));

        var inbound = answer.Items("IngressPermissions", "Permission").ToList();
        // Priority 10 holds two rules of two groups: the drop (web) is tried before the accept (ops).
        Assert.Equal(
            [(1, 10, "Drop", web, "web", "22/22"), (2, 10, "Accept", ops, "ops", "22/22"), (3, 50, "Accept", web, "web", "443/443")],
            inbound.Select(r => (r.GetProperty("Order").GetInt32(), r.GetProperty("Priority").GetInt32(), r.Str("Policy"), r.Str("SecurityGroupId"), r.Str("SecurityGroupName"), r.Str("PortRange"))));
        var outbound = Assert.Single(answer.Items("EgressPermissions", "Permission"));
        Assert.Equal((ops, web, "web"), (outbound.Str("SecurityGroupId"), outbound.Str("DestGroupId"), outbound.Str("DestGroupName")));
        Assert.Equal(("Drop", "Accept"), (answer.Str("DefaultIngressPolicy"), answer.Str("DefaultEgressPolicy")));

        // In an advanced group: undeclared outbound traffic is dropped, and the answer says why.
        var locked = await _s.GroupAsync(vpc, "locked", "enterprise");
        var lockedInstance = (await _s.RunAsync(locked, vsw)).Single();
        answer = await _s.Api.CallAsync("DescribeInstanceEffectiveRules", new { RegionId = Region, InstanceId = lockedInstance });
        Assert.Equal("Drop", answer.Str("DefaultEgressPolicy"));
        Assert.Contains(locked, answer.Str("DefaultEgressReason"));
        Assert.Equal("Drop", answer.Items("SecurityGroups", "SecurityGroup").Single(g => g.Str("SecurityGroupId") == locked).Str("InnerAccessPolicy"));
    }

    [Fact]
    public async Task AClassicInstance_AnswersForTheNicAsked()
    {
        var classic = await _s.GroupAsync(null, "classic");
        await _s.AuthorizeAsync(classic, new { IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0", NicType = "internet" });
        await _s.AuthorizeAsync(classic, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", NicType = "intranet" });
        var instance = (await _s.RunAsync(classic, null)).Single();

        var intranet = await _s.Api.CallAsync("DescribeInstanceEffectiveRules", new { RegionId = Region, InstanceId = instance });
        Assert.Equal("22/22", Assert.Single(intranet.Items("IngressPermissions", "Permission")).Str("PortRange"));
        var internet = await _s.Api.CallAsync("DescribeInstanceEffectiveRules", new { RegionId = Region, InstanceId = instance, NicType = "internet" });
        Assert.Equal(("internet", "80/80"), (internet.Str("NicType"), Assert.Single(internet.Items("IngressPermissions", "Permission")).Str("PortRange")));
        // Inner access is between private addresses: the internet NIC has none.
        Assert.Equal("", Assert.Single(internet.Items("SecurityGroups", "SecurityGroup")).Str("InnerAccessPolicy"));
    }

    [Fact]
    public async Task RefusesWhatItCannotAnswer_AndChangesNothing()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var instance = (await _s.RunAsync(await _s.GroupAsync(vpc), vsw)).Single();
        var revision = Plane.Store.CurrentRevision();
        async Task Fails(object parameters, string code, int status) =>
            await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeInstanceEffectiveRules", EcsClient.Flatten(parameters)), code, status);

        await Fails(new { RegionId = Region }, "MissingParameter", 400);
        await Fails(new { RegionId = Region, InstanceId = "web-1" }, "InvalidInstanceId.Malformed", 400);
        await Fails(new { RegionId = Region, InstanceId = "i-doesnotexist00000000" }, "InvalidInstanceId.NotFound", 404);
        await Fails(new { RegionId = "cn-shanghai", InstanceId = instance }, "InvalidInstanceId.NotFound", 404);
        await Fails(new { RegionId = Region, InstanceId = instance, NicType = "wifi" }, "InvalidNicType.ValueNotSupported", 400);
        await Fails(new { RegionId = Region, InstanceId = instance, NicType = "internet" }, "InvalidParameter", 400);
        Assert.Equal(revision, Plane.Store.CurrentRevision());
    }
}
