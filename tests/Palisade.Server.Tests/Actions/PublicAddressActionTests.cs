using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Networking;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Issue 16 item 3: public addresses and EIPs on the server, and the internet exposure they bring to
/// the server's own audit and what-if (before, the server never saw the internet at all).
/// </summary>
public sealed class PublicAddressActionTests : ControlPlaneTest
{
    private Scenario _s = null!;
    private string _vpc = "";
    private string _vsw = "";
    private string _db = "";

    // A pool of six addresses (192.0.2.1–6: a /29 less its network and broadcast addresses), to reach its end.
    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(options: new ServerOptions { PublicAddressPool = [Cidr.Parse("192.0.2.0/29")] });

    protected override async Task SetUpAsync()
    {
        _s = NewScenario();
        _vpc = await _s.VpcAsync();
        _vsw = await _s.VSwitchAsync(_vpc);
        _db = await _s.GroupAsync(_vpc, "db");
    }

    private Task<JsonElement> Call(string action, object parameters) => _s.Api.CallAsync(action, parameters);

    private Task<JsonElement> Vpc(string action, object parameters) => _s.Api.CallAsync(action, parameters, ApiVersions.Vpc);

    private async Task<string> RunAsync(int bandwidthOut = 0) =>
        (await Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _db, VSwitchId = _vsw, InternetMaxBandwidthOut = bandwidthOut }))
            .Items("InstanceIdSets", "InstanceIdSet").Single().GetString()!;

    private async Task<List<string>> RiskyAsync() =>
        [.. (await Call("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding").Where(f => f.Str("Check") == "risky-port-exposed").Select(f => f.Str("InstanceId"))];

    [Fact]
    public async Task RunInstances_WithBandwidthOut_GivesAVpcInstanceAPublicAddress_FromThePool()
    {
        var without = await RunAsync();
        var with = await RunAsync(bandwidthOut: 5);
        Assert.Empty((await _s.InstanceAsync(without)).Items("PublicIpAddress", "IpAddress"));
        Assert.Equal("192.0.2.1", (await _s.InstanceAsync(with)).Items("PublicIpAddress", "IpAddress").Single().GetString());
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _db, VSwitchId = _vsw, InternetMaxBandwidthOut = 101 }), "InvalidParameter", 400);

        // AllocatePublicIpAddress: the next free one; asked again, the same (one per instance).
        var given = (await Call("AllocatePublicIpAddress", new { InstanceId = without })).Str("IpAddress");
        Assert.Equal("192.0.2.2", given);
        Assert.Equal(given, (await Call("AllocatePublicIpAddress", new { InstanceId = without })).Str("IpAddress"));
        Assert.Equal(given, (await _s.InstanceAsync(without)).Items("PublicIpAddress", "IpAddress").Single().GetString());
        await ApiAssert.FailsAsync(() => Call("AllocatePublicIpAddress", new { InstanceId = "i-nothere" }), "InvalidInstanceId.NotFound", 404);
        var classicGroup = await _s.GroupAsync(null, "classic");
        var classic = (await _s.RunAsync(classicGroup, null)).Single();
        await ApiAssert.FailsAsync(() => Call("AllocatePublicIpAddress", new { InstanceId = classic }), "OperationDenied", 400);

        // The pool (192.0.2.1–6) runs out with a clear error, and a refused launch leaves nothing behind.
        for (var n = 0; n < 4; n++)
            await RunAsync(bandwidthOut: 1);
        var before = (await Call("DescribeInstances", new { RegionId = Region })).GetProperty("TotalCount").GetInt32();
        await ApiAssert.FailsAsync(() => RunAsync(bandwidthOut: 1), "InsufficientPublicIp", 400);
        Assert.Equal(before, (await Call("DescribeInstances", new { RegionId = Region })).GetProperty("TotalCount").GetInt32());
        // Deleting an instance gives its address back.
        await Call("DeleteInstance", new { InstanceId = with, Force = true });
        Assert.Equal("192.0.2.1", (await _s.InstanceAsync(await RunAsync(bandwidthOut: 1))).Items("PublicIpAddress", "IpAddress").Single().GetString());
    }

    [Fact]
    public async Task Eips_AllocateAssociateUnassociateRelease_WithEveryPrecondition()
    {
        var instance = await RunAsync();
        var allocated = await Vpc("AllocateEipAddress", new { RegionId = Region, Bandwidth = 10, Name = "front" });
        var id = allocated.Str("AllocationId");
        Assert.StartsWith("eip-", id);
        Assert.Equal("192.0.2.1", allocated.Str("EipAddress"));
        var listed = (await Vpc("DescribeEipAddresses", new { RegionId = Region })).Items("EipAddresses", "EipAddress").Single();
        Assert.Equal((id, "Available", "", "10", "front"), (listed.Str("AllocationId"), listed.Str("Status"), listed.Str("InstanceId"), listed.Str("Bandwidth"), listed.Str("Name")));

        await Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = instance });
        var eip = (await _s.InstanceAsync(instance)).GetProperty("EipAddress");
        Assert.Equal(("192.0.2.1", id), (eip.Str("IpAddress"), eip.Str("AllocationId")));
        var inUse = (await Vpc("DescribeEipAddresses", new { RegionId = Region, AssociatedInstanceId = instance })).Items("EipAddresses", "EipAddress").Single();
        Assert.Equal(("InUse", "EcsInstance"), (inUse.Str("Status"), inUse.Str("InstanceType")));

        var second = (await Vpc("AllocateEipAddress", new { RegionId = Region })).Str("AllocationId");
        await ApiAssert.FailsAsync(() => Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = second, InstanceId = instance }), "InvalidAssociation.Duplicated", 400);
        var other = await RunAsync();
        await ApiAssert.FailsAsync(() => Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = other }), "IncorrectEipStatus", 400);
        await ApiAssert.FailsAsync(() => Call("AllocatePublicIpAddress", new { InstanceId = instance }), "OperationDenied", 400);
        await ApiAssert.FailsAsync(() => Vpc("ReleaseEipAddress", new { RegionId = Region, AllocationId = id }), "IncorrectEipStatus", 400);
        await ApiAssert.FailsAsync(() => Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = "eip-nothere", InstanceId = instance }), "InvalidAllocationId.NotFound", 404);
        await ApiAssert.FailsAsync(() => Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = second, InstanceId = instance, InstanceType = "Nat" }), "InvalidInstanceType.ValueNotSupported", 400);
        await ApiAssert.FailsAsync(() => Vpc("AllocateEipAddress", new { RegionId = Region, Bandwidth = 0 }), "InvalidBandwidth.Malformed", 400);

        await Vpc("UnassociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = instance });
        Assert.Equal("", (await _s.InstanceAsync(instance)).GetProperty("EipAddress").Str("IpAddress"));
        await ApiAssert.FailsAsync(() => Vpc("UnassociateEipAddress", new { RegionId = Region, AllocationId = id }), "IncorrectEipStatus", 400);
        await Vpc("ReleaseEipAddress", new { RegionId = Region, AllocationId = id });
        Assert.Empty((await Vpc("DescribeEipAddresses", new { RegionId = Region, AllocationId = id })).Items("EipAddresses", "EipAddress"));
        // The released address is free for the next allocation.
        Assert.Equal("192.0.2.1", (await Vpc("AllocateEipAddress", new { RegionId = Region })).Str("EipAddress"));
    }

    [Fact]
    public async Task AnEip_OnAnEni_ShowsOnTheEni_AndDeletingTheInstance_FreesItsEip()
    {
        var eni = (await Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db })).Str("NetworkInterfaceId");
        var id = (await Vpc("AllocateEipAddress", new { RegionId = Region })).Str("AllocationId");
        await Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = eni, InstanceType = "NetworkInterface" });
        var view = (await Call("DescribeNetworkInterfaces", new { RegionId = Region, NetworkInterfaceId = new[] { eni } })).Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single();
        Assert.Equal(("192.0.2.1", id), (view.GetProperty("AssociatedPublicIp").Str("PublicIpAddress"), view.GetProperty("AssociatedPublicIp").Str("AllocationId")));
        Assert.Equal("NetworkInterface", (await Vpc("DescribeEipAddresses", new { RegionId = Region })).Items("EipAddresses", "EipAddress").Single().Str("InstanceType"));
        await Vpc("UnassociateEipAddress", new { RegionId = Region, AllocationId = id });

        var instance = await RunAsync();
        await Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = instance });
        await Call("DeleteInstance", new { InstanceId = instance, Force = true });
        Assert.Equal(("Available", ""), ((await Vpc("DescribeEipAddresses", new { RegionId = Region })).Items("EipAddresses", "EipAddress").Single().Str("Status"),
            (await Vpc("DescribeEipAddresses", new { RegionId = Region })).Items("EipAddresses", "EipAddress").Single().Str("InstanceId")));
    }

    /// <summary>
    /// Issue 16's report: `authorize db tcp 3306 0.0.0.0/0` gave no finding on the server, while the
    /// same configuration as a state file with public addresses gave risky-port-exposed.
    /// </summary>
    [Fact]
    public async Task TheServersAudit_SeesTheInternet_ThroughPublicAddressesAndEips()
    {
        var db = await RunAsync();
        await _s.AuthorizeAsync(_db, new { IpProtocol = "tcp", PortRange = "3306/3306", SourceCidrIp = "0.0.0.0/0" });
        // Without a public address the internet cannot reach it: no finding.
        Assert.Empty(await RiskyAsync());

        var id = (await Vpc("AllocateEipAddress", new { RegionId = Region })).Str("AllocationId");
        await Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = db });
        Assert.Equal([db], await RiskyAsync());
        await Vpc("UnassociateEipAddress", new { RegionId = Region, AllocationId = id });
        Assert.Empty(await RiskyAsync());

        var exposed = await RunAsync(bandwidthOut: 1);
        Assert.Equal([exposed], await RiskyAsync());

        // The what-if of revoking the rule: the internet loses its way in (before: "loses: nothing").
        var impact = await _s.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "RevokeSecurityGroup", SecurityGroupId = _db, IpProtocol = "tcp", PortRange = "3306/3306", SourceCidrIp = "0.0.0.0/0",
        }));
        Assert.Contains(impact.GetProperty("Impact").Items("Lost", "Flow"), f => f.Str("Source") == "internet" && f.Str("Target") == exposed);
        Assert.DoesNotContain(impact.GetProperty("Impact").Items("Lost", "Flow"), f => f.Str("Source") == "internet" && f.Str("Target") == db);
    }

    /// <summary>
    /// Issue 16 item 5: a secondary ENI takes part in the server's analysis with its own groups and
    /// its own EIP. The instance's primary ENI is in a group with no rules; its secondary ENI is in a
    /// group allowing 3306 from anywhere and has an EIP: the audit finds the port exposed and names
    /// the ENI, reach shows the internet reaching the instance, and the what-if of the ENI leaving
    /// that group (by NetworkInterfaceId) loses the internet's way in.
    /// </summary>
    [Fact]
    public async Task ASecondaryEni_WithAnEip_InAGroupOpenOn3306_IsFoundExposed_AndNamed()
    {
        var web = await _s.GroupAsync(_vpc, "web");
        var instance = (await Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = web, VSwitchId = _vsw }))
            .Items("InstanceIdSets", "InstanceIdSet").Single().GetString()!;
        await _s.AuthorizeAsync(_db, new { IpProtocol = "tcp", PortRange = "3306/3306", SourceCidrIp = "0.0.0.0/0" });
        var eni = (await Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupIds = new[] { _db, web } })).Str("NetworkInterfaceId");
        await Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance });
        // Attached but without a public address: nothing on the internet reaches it.
        Assert.Empty(await RiskyAsync());

        var id = (await Vpc("AllocateEipAddress", new { RegionId = Region })).Str("AllocationId");
        await Vpc("AssociateEipAddress", new { RegionId = Region, AllocationId = id, InstanceId = eni, InstanceType = "NetworkInterface" });
        var findings = (await Call("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding").Where(f => f.Str("Check") == "risky-port-exposed").ToList();
        var finding = Assert.Single(findings);
        Assert.Equal(instance, finding.Str("InstanceId"));
        Assert.Equal(_db, finding.Str("SecurityGroupId"));
        Assert.Contains($"on {instance} ({eni})", finding.Str("Message"));

        // The instance's own (primary) groups open nothing; the ENI's do.
        var reach = await Call("DescribeReachability", new { RegionId = Region, InstanceId = instance });
        Assert.Contains("3306", reach.GetRawText());

        // The what-if of the ENI leaving sg-db: the internet loses its way in to the instance.
        var impact = await Call("DescribeChangeImpact", new { RegionId = Region, ChangeAction = "LeaveSecurityGroup", NetworkInterfaceId = eni, SecurityGroupId = _db });
        Assert.Contains(impact.GetProperty("Impact").Items("Lost", "Flow"), f => f.Str("Source") == "internet" && f.Str("Target") == instance);

        // Detached, the ENI decides nothing for the instance any more.
        await Vpc("UnassociateEipAddress", new { RegionId = Region, AllocationId = id });
        await Call("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance });
        Assert.Empty(await RiskyAsync());
    }
}
