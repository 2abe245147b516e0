using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Actions;

/// <summary>One account never sees or changes another's resources, and read-only keys only read.</summary>
public sealed class AccountIsolationTests : ControlPlaneTest
{
    private Scenario _alice = null!;
    private Scenario _bob = null!;
    private Palisade.Storage.Accounts.AccountService.NewKey _aliceKey = null!;

    protected override Task SetUpAsync()
    {
        _aliceKey = Plane.NewAccount("alice");
        _alice = new Scenario(Plane.Client(_aliceKey));
        _bob = new Scenario(Plane.Client(Plane.NewAccount("bob")));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AnotherAccountsResources_LookMissing()
    {
        var vpc = await _alice.VpcAsync();
        var vsw = await _alice.VSwitchAsync(vpc);
        var sg = await _alice.GroupAsync(vpc, "private");
        var instance = (await _alice.RunAsync(sg, vsw)).Single();

        Assert.Empty((await _bob.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupId = sg })).Items("SecurityGroups", "SecurityGroup"));
        Assert.Empty((await _bob.Api.CallAsync("DescribeInstances", new { RegionId = Region })).Items("Instances", "Instance"));
        await ApiAssert.FailsAsync(() => _bob.RulesAsync(sg), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _bob.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0" }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _bob.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = sg }), "InvalidSecurityGroup.NotFound", 404);
        await ApiAssert.FailsAsync(() => _bob.Api.CallAsync("DeleteInstance", new { InstanceId = instance, Force = true }), "InvalidInstanceId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _bob.GroupAsync(vpc, "squat"), "InvalidVpcId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _bob.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { sg }, Tag = new[] { new { Key = "k", Value = "v" } } }), "InvalidResourceId.NotFound", 404);
        // A plain group reference never reaches into another account.
        var bobs = await _bob.GroupAsync(await _bob.VpcAsync(), "bobs");
        await ApiAssert.FailsAsync(() => _bob.AuthorizeAsync(bobs, new { IpProtocol = "tcp", PortRange = "1/1", SourceGroupId = sg }), "InvalidSourceGroupId.NotFound", 404);
        Assert.Empty(await _alice.RulesAsync(sg));
    }

    [Fact]
    public async Task CrossAccountReferences_GoThroughTheOwnerFields()
    {
        var sg = await _alice.GroupAsync(await _alice.VpcAsync(), "shared");
        var bobs = await _bob.GroupAsync(await _bob.VpcAsync(), "bobs");
        await _bob.AuthorizeAsync(bobs, new { IpProtocol = "tcp", PortRange = "443/443", SourceGroupId = sg, SourceGroupOwnerId = _aliceKey.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var rule = Assert.Single(await _bob.RulesAsync(bobs));
        Assert.Equal(sg, rule.Str("SourceGroupId"));
        Assert.Equal(_aliceKey.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.Str("SourceGroupOwnerAccount"));
        // Issue 19: under a wrong owner the answer is the same (nothing is looked up in another account), so it tells nothing.
        await _bob.AuthorizeAsync(bobs, new { IpProtocol = "tcp", PortRange = "444/444", SourceGroupId = sg, SourceGroupOwnerId = "1234" });
        Assert.Equal(2, (await _bob.RulesAsync(bobs)).Count);
    }

    [Fact]
    public async Task ReadOnlyKeys_OnlyRead()
    {
        var reader = new Scenario(Plane.Client(Plane.Accounts.CreateAccessKey(_aliceKey.AccountId, readOnly: true)));
        var sg = await _alice.GroupAsync(await _alice.VpcAsync(), "mine");
        Assert.Single((await reader.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region })).Items("SecurityGroups", "SecurityGroup"));
        await ApiAssert.FailsAsync(() => reader.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0" }), "Forbidden.RAM", 403);
        Assert.Empty(await _alice.RulesAsync(sg));
    }
}
