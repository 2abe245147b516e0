using System.Text.Json;
using System.Text.RegularExpressions;
using Palisade.Domain.Quotas;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>Issue 16 item 1: ENIs through the ECS API, every action and its errors.</summary>
public sealed class NetworkInterfaceActionTests : ControlPlaneTest
{
    private Scenario _s = null!;
    private string _vpc = "";
    private string _vsw = "";
    private string _web = "";
    private string _db = "";

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(new Limits { NetworkInterfacesPerInstance = 3, PrivateIpsPerNetworkInterface = 4 });

    protected override async Task SetUpAsync()
    {
        _s = NewScenario();
        _vpc = await _s.VpcAsync();
        _vsw = await _s.VSwitchAsync(_vpc);
        _web = await _s.GroupAsync(_vpc, "web");
        _db = await _s.GroupAsync(_vpc, "db");
    }

    private Task<JsonElement> Call(string action, object parameters) => _s.Api.CallAsync(action, parameters);

    private async Task<string> CreateAsync(object? extra = null, string? group = null)
    {
        var parameters = Palisade.Client.EcsClient.Flatten(new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = group ?? _db })
            .Concat(extra is null ? [] : Palisade.Client.EcsClient.Flatten(extra));
        return (await _s.Api.CallAsync("CreateNetworkInterface", parameters)).Str("NetworkInterfaceId");
    }

    private async Task<JsonElement> EniAsync(string id) =>
        (await Call("DescribeNetworkInterfaces", new { RegionId = Region, NetworkInterfaceId = new[] { id } })).Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single();

    [Fact]
    public async Task Create_IsAvailableAtOnce_AndDescribesEveryDocumentedField()
    {
        var created = await Call("CreateNetworkInterface", new
        {
            RegionId = Region, VSwitchId = _vsw, SecurityGroupIds = new[] { _web, _db }, PrimaryIpAddress = "192.168.1.50",
            PrivateIpAddress = new[] { "192.168.1.51" }, NetworkInterfaceName = "db-side", Description = "the db leg",
            Tag = new[] { new { Key = "tier", Value = "db" } },
        });
        var id = created.Str("NetworkInterfaceId");
        Assert.StartsWith("eni-", id);
        Assert.Equal("Available", created.Str("Status"));
        var eni = await EniAsync(id);
        Assert.Equal(("Available", "Secondary", _vpc, _vsw, "cn-hangzhou-h"), (eni.Str("Status"), eni.Str("Type"), eni.Str("VpcId"), eni.Str("VSwitchId"), eni.Str("ZoneId")));
        Assert.Equal(("192.168.1.50", "db-side", "the db leg", ""), (eni.Str("PrivateIpAddress"), eni.Str("NetworkInterfaceName"), eni.Str("Description"), eni.Str("InstanceId")));
        Assert.Matches(new Regex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"), eni.Str("MacAddress"));
        Assert.Equal([_web, _db], eni.Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
        var ips = eni.Items("PrivateIpSets", "PrivateIpSet").ToList();
        Assert.Equal([("192.168.1.50", true), ("192.168.1.51", false)], ips.Select(i => (i.Str("PrivateIpAddress"), i.GetProperty("Primary").GetBoolean())));
        // Terraform reads these unchecked: present even when empty.
        Assert.Empty(eni.Items("Ipv6Sets", "Ipv6Set"));
        Assert.Empty(eni.Items("Ipv4PrefixSets", "Ipv4PrefixSet"));
        Assert.Equal("db", eni.Items("Tags", "Tag").Single().Str("TagValue"));
        foreach (var field in new[] { "CreationTime", "ResourceGroupId", "OwnerId", "Attachment", "AssociatedPublicIp", "DeleteOnRelease", "ServiceManaged" })
            Assert.True(eni.TryGetProperty(field, out _), field);
        // The MAC address is stable: the same on every read.
        Assert.Equal(eni.Str("MacAddress"), (await EniAsync(id)).Str("MacAddress"));
    }

    [Fact]
    public async Task Create_Errors()
    {
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, SecurityGroupId = _db }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = "vsw-nothere", SecurityGroupId = _db }), "InvalidVSwitchId.NotFound", 404);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = "sg-nothere" }), "InvalidSecurityGroupId.NotFound", 404);
        var otherVpc = await _s.VpcAsync("172.16.0.0/12");
        var foreign = await _s.GroupAsync(otherVpc, "foreign");
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = foreign }), "InvalidOperation.VpcMismatch", 403);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db, PrimaryIpAddress = "10.0.0.1" }), "InvalidPrivateIpAddress", 400);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db, SecondaryPrivateIpAddressCount = 4 }), "QuotaExceed.PrivateIpAddress", 403);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db, NetworkInterfaceName = "9starts-with-digit" }), "InvalidNetworkInterfaceName.Malformed", 400);
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db, Ipv6AddressCount = 1 }), "InvalidParams.Ipv6", 400);
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var taken = (await _s.InstanceAsync(instance)).GetProperty("VpcAttributes").Items("PrivateIpAddress", "IpAddress").Single().GetString();
        await ApiAssert.FailsAsync(() => Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = _vsw, SecurityGroupId = _db, PrimaryIpAddress = taken }), "InvalidPrivateIpAddress.Duplicated", 400);
        // Nothing was made by any refused call: only the instance's primary ENI exists.
        var all = await Call("DescribeNetworkInterfaces", new { RegionId = Region });
        Assert.Equal("Primary", all.Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("Type"));
    }

    [Fact]
    public async Task EveryInstance_HasAPrimaryEni_HoldingItsAddressAndGroups()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var view = await _s.InstanceAsync(instance);
        var nic = view.Items("NetworkInterfaces", "NetworkInterface").Single();
        Assert.Equal("Primary", nic.Str("Type"));
        Assert.Equal("192.168.1.1", nic.Str("PrimaryIpAddress"));
        Assert.Empty(nic.Items("Ipv4PrefixSets", "Ipv4PrefixSet"));
        var eni = await EniAsync(nic.Str("NetworkInterfaceId"));
        Assert.Equal(("InUse", instance, nic.Str("MacAddress")), (eni.Str("Status"), eni.Str("InstanceId"), eni.Str("MacAddress")));
        Assert.Equal([_web], eni.Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
        await ApiAssert.FailsAsync(() => Call("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni.Str("NetworkInterfaceId"), InstanceId = instance }), "InvalidOperation.DetachPrimaryEniNotAllowed", 403);
        await ApiAssert.FailsAsync(() => Call("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni.Str("NetworkInterfaceId") }), "InvalidOperation.InvalidEniState", 403);
        // The instance's groups are its primary ENI's: changing either changes both.
        await Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni.Str("NetworkInterfaceId"), SecurityGroupId = new[] { _db, _web } });
        Assert.Equal([_db, _web], (await _s.InstanceAsync(instance)).Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
        await Call("LeaveSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = _db });
        Assert.Equal([_web], (await EniAsync(eni.Str("NetworkInterfaceId"))).Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
    }

    [Fact]
    public async Task AttachDetachDelete_WithEveryPrecondition()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var eni = await CreateAsync();
        await Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance });
        Assert.Equal(("InUse", instance), ((await EniAsync(eni)).Str("Status"), (await EniAsync(eni)).Str("InstanceId")));
        var nics = (await _s.InstanceAsync(instance)).Items("NetworkInterfaces", "NetworkInterface").ToList();
        Assert.Equal(["Primary", "Secondary"], nics.Select(n => n.Str("Type")));
        Assert.Equal(eni, nics[1].Str("NetworkInterfaceId"));
        // The instance's own groups are its primary ENI's, not the secondary's.
        Assert.Equal([_web], (await _s.InstanceAsync(instance)).Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));

        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance }), "InvalidOperation.InvalidEniState", 403);
        await ApiAssert.FailsAsync(() => Call("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni }), "InvalidOperation.InvalidEniState", 403);
        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = "eni-nothere", InstanceId = instance }), "InvalidEniId.NotFound", 404);
        var spare = await CreateAsync();
        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = spare, InstanceId = "i-nothere" }), "InvalidInstanceId.NotFound", 404);

        // Limit 3 here: the primary, this one, one more.
        await Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = await CreateAsync(), InstanceId = instance });
        var fourth = await CreateAsync();
        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = fourth, InstanceId = instance }), "EniPerInstanceLimitExceeded", 403);

        // Another zone, another VPC.
        var otherZone = await _s.VSwitchAsync(_vpc, "192.168.2.0/24", "cn-hangzhou-i");
        var zoned = (await Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = otherZone, SecurityGroupId = _db })).Str("NetworkInterfaceId");
        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = zoned, InstanceId = instance }), "InvalidOperation.AvailabilityZoneMismatch", 403);
        var otherVpc = await _s.VpcAsync("172.16.0.0/12");
        var otherVsw = await _s.VSwitchAsync(otherVpc, "172.16.1.0/24");
        var otherGroup = await _s.GroupAsync(otherVpc, "other");
        var stranger = (await Call("CreateNetworkInterface", new { RegionId = Region, VSwitchId = otherVsw, SecurityGroupId = otherGroup })).Str("NetworkInterfaceId");
        await ApiAssert.FailsAsync(() => Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = stranger, InstanceId = instance }), "InvalidOperation.VpcMismatch", 403);

        await Call("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance });
        Assert.Equal(("Available", ""), ((await EniAsync(eni)).Str("Status"), (await EniAsync(eni)).Str("InstanceId")));
        await ApiAssert.FailsAsync(() => Call("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance }), "InvalidOperation.InvalidEniState", 403);
        await Call("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni });
        Assert.Empty((await Call("DescribeNetworkInterfaces", new { RegionId = Region, NetworkInterfaceId = new[] { eni } })).Items("NetworkInterfaceSets", "NetworkInterfaceSet"));
        await ApiAssert.FailsAsync(() => Call("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni }), "InvalidEniId.NotFound", 404);
    }

    [Fact]
    public async Task DeletingAnInstance_DeletesItsPrimaryEni_AndLeavesTheOthersAvailable()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var primary = (await _s.InstanceAsync(instance)).Items("NetworkInterfaces", "NetworkInterface").Single().Str("NetworkInterfaceId");
        var eni = await CreateAsync();
        await Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance });
        await Call("DeleteInstance", new { InstanceId = instance, Force = true });
        var left = (await Call("DescribeNetworkInterfaces", new { RegionId = Region })).Items("NetworkInterfaceSets", "NetworkInterfaceSet").ToList();
        Assert.Equal([(eni, "Available")], left.Select(e => (e.Str("NetworkInterfaceId"), e.Str("Status"))));
        Assert.DoesNotContain(primary, left.Select(e => e.Str("NetworkInterfaceId")));
        // A group with an ENI in it is in use; the vSwitch too.
        await ApiAssert.FailsAsync(() => Call("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = _db }), "DependencyViolation", 403);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DeleteVSwitch", new { RegionId = Region, VSwitchId = _vsw }, Palisade.Domain.Ecs.ApiVersions.Vpc), "DependencyViolation", 400);
        await Call("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni });
        await Call("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = _db });
    }

    [Fact]
    public async Task ModifyAttribute_ReplacesTheGroups_AndRenames()
    {
        var eni = await CreateAsync();
        await Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = new[] { _web, _db }, NetworkInterfaceName = "renamed", Description = "new words" });
        var view = await EniAsync(eni);
        Assert.Equal([_web, _db], view.Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
        Assert.Equal(("renamed", "new words"), (view.Str("NetworkInterfaceName"), view.Str("Description")));
        // Only the name: the groups stay.
        await Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni, NetworkInterfaceName = "again" });
        Assert.Equal(2, (await EniAsync(eni)).Items("SecurityGroupIds", "SecurityGroupId").Count());
        var otherVpc = await _s.VpcAsync("172.16.0.0/12");
        var foreign = await _s.GroupAsync(otherVpc, "foreign");
        await ApiAssert.FailsAsync(() => Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = new[] { foreign } }), "InvalidOperation.VpcMismatch", 403);
        var six = new List<string>();
        for (var n = 0; n < 6; n++)
            six.Add(await _s.GroupAsync(_vpc, $"g{n}"));
        await ApiAssert.FailsAsync(() => Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = six }), "InstanceSecurityGroupLimitExceeded", 400);
        await ApiAssert.FailsAsync(() => Call("ModifyNetworkInterfaceAttribute", new { RegionId = Region, NetworkInterfaceId = eni, Description = "http://spam" }), "InvalidDescription.Malformed", 400);
        Assert.Equal("again", (await EniAsync(eni)).Str("NetworkInterfaceName"));
    }

    [Fact]
    public async Task AssignAndUnassignPrivateIps()
    {
        var eni = await CreateAsync(new { PrimaryIpAddress = "192.168.1.10" });
        var assigned = await Call("AssignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, SecondaryPrivateIpAddressCount = 2 });
        var added = assigned.GetProperty("AssignedPrivateIpAddressesSet").Items("PrivateIpSet", "PrivateIpAddress").Select(a => a.GetString()!).ToList();
        Assert.Equal(2, added.Count);
        await Call("AssignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, PrivateIpAddress = new[] { "192.168.1.20" } });
        var ips = (await EniAsync(eni)).Items("PrivateIpSets", "PrivateIpSet").Select(i => i.Str("PrivateIpAddress")).ToList();
        Assert.Equal(["192.168.1.10", .. added, "192.168.1.20"], ips);
        // Four per ENI here.
        await ApiAssert.FailsAsync(() => Call("AssignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, SecondaryPrivateIpAddressCount = 1 }), "QuotaExceed.PrivateIpAddress", 403);
        await ApiAssert.FailsAsync(() => Call("UnassignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, PrivateIpAddress = new[] { "192.168.1.10" } }), "InvalidPrivateIpAddress.NotFound", 400);
        await ApiAssert.FailsAsync(() => Call("UnassignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, PrivateIpAddress = new[] { "192.168.1.99" } }), "InvalidPrivateIpAddress.NotFound", 400);
        await Call("UnassignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = eni, PrivateIpAddress = new[] { "192.168.1.20" } });
        // The address is free again, for an instance as for an ENI; one in use is refused.
        var other = await CreateAsync();
        await Call("AssignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = other, PrivateIpAddress = new[] { "192.168.1.20" } });
        await ApiAssert.FailsAsync(() => Call("AssignPrivateIpAddresses", new { RegionId = Region, NetworkInterfaceId = other, PrivateIpAddress = new[] { added[0] } }), "InvalidPrivateIpAddress.Duplicated", 400);
        await ApiAssert.FailsAsync(() => Call("RunInstances", new { RegionId = Region, ImageId = "i", InstanceType = "t", SecurityGroupId = _web, VSwitchId = _vsw, PrivateIpAddress = "192.168.1.10" }), "InvalidPrivateIpAddress.Duplicated", 400);
    }

    [Fact]
    public async Task JoinAndLeave_ByNetworkInterfaceId()
    {
        var eni = await CreateAsync();
        await Call("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = _web });
        Assert.Equal([_db, _web], (await EniAsync(eni)).Items("SecurityGroupIds", "SecurityGroupId").Select(g => g.GetString()));
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = _web }), "InvalidInstanceId.AlreadyExists", 403);
        await Call("LeaveSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = _db });
        await ApiAssert.FailsAsync(() => Call("LeaveSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = _web }), "InstanceLastSecurityGroup", 403);
        await ApiAssert.FailsAsync(() => Call("LeaveSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = _db }), "InvalidSecurityGroupAssociation.NotFound", 400);
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = instance, SecurityGroupId = _db }), "InvalidParam.EniIdAndInstanceId.Conflict", 403);
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { NetworkInterfaceId = eni, SecurityGroupId = _db }), "MissingParameter.RegionId", 400);
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = "eni-nothere", SecurityGroupId = _db }), "InvalidEniId.NotFound", 404);
        var otherVpc = await _s.VpcAsync("172.16.0.0/12");
        var foreign = await _s.GroupAsync(otherVpc, "foreign");
        await ApiAssert.FailsAsync(() => Call("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = foreign }), "InvalidOperation.VpcMismatch", 403);
    }

    [Fact]
    public async Task Describe_FiltersAndPages_AndEnisCarryTags()
    {
        var instance = (await _s.RunAsync(_web, _vsw)).Single();
        var a = await CreateAsync(new { NetworkInterfaceName = "alpha" });
        var b = await CreateAsync(new { NetworkInterfaceName = "beta" }, _web);
        await Call("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = a, InstanceId = instance });
        await Call("TagResources", new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { b }, Tag = new[] { new { Key = "team", Value = "blue" } } });

        async Task<List<string>> Ids(object filter)
        {
            var parameters = Palisade.Client.EcsClient.Flatten(new { RegionId = Region }).Concat(Palisade.Client.EcsClient.Flatten(filter));
            return [.. (await _s.Api.CallAsync("DescribeNetworkInterfaces", parameters)).Items("NetworkInterfaceSets", "NetworkInterfaceSet").Select(e => e.Str("NetworkInterfaceId")).Order()];
        }
        var primary = (await _s.InstanceAsync(instance)).Items("NetworkInterfaces", "NetworkInterface").First().Str("NetworkInterfaceId");
        Assert.Equal(new[] { a, primary }.Order(), await Ids(new { InstanceId = instance }));
        Assert.Equal([b], await Ids(new { Status = "Available" }));
        Assert.Equal([primary], await Ids(new { Type = "Primary" }));
        Assert.Equal(new[] { a, b }.Order(), await Ids(new { Type = "Secondary", VpcId = _vpc, VSwitchId = _vsw }));
        Assert.Equal([a], await Ids(new { SecurityGroupId = _db }));
        Assert.Equal([b], await Ids(new { NetworkInterfaceName = "beta" }));
        Assert.Equal([b], await Ids(new { Tag = new[] { new { Key = "team", Value = "blue" } } }));
        Assert.Equal([primary], await Ids(new { PrimaryIpAddress = "192.168.1.1" }));
        Assert.Equal([primary], await Ids(new { PrivateIpAddress = new[] { "192.168.1.1" } }));
        Assert.Empty(await Ids(new { VpcId = "vpc-nothere" }));
        await ApiAssert.FailsAsync(() => Call("DescribeNetworkInterfaces", new { RegionId = Region, Status = "Sleeping" }), "InvalidParameter", 400);

        var page = await Call("DescribeNetworkInterfaces", new { RegionId = Region, PageSize = 2, PageNumber = 2 });
        Assert.Equal((3, 1), (page.GetProperty("TotalCount").GetInt32(), page.Items("NetworkInterfaceSets", "NetworkInterfaceSet").Count()));
        var first = await Call("DescribeNetworkInterfaces", new { RegionId = Region, MaxResults = 2 });
        var rest = await Call("DescribeNetworkInterfaces", new { RegionId = Region, MaxResults = 2, NextToken = first.Str("NextToken") });
        Assert.Equal(3, first.Items("NetworkInterfaceSets", "NetworkInterfaceSet").Count() + rest.Items("NetworkInterfaceSets", "NetworkInterfaceSet").Count());
        Assert.Equal("", rest.Str("NextToken"));

        var tags = await Call("ListTagResources", new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { b } });
        Assert.Equal(("eni", "team"), (tags.Items("TagResources", "TagResource").Single().Str("ResourceType"), tags.Items("TagResources", "TagResource").Single().Str("TagKey")));
        await Call("UntagResources", new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { b }, All = true });
        Assert.Empty(await Ids(new { Tag = new[] { new { Key = "team", Value = "blue" } } }));
        await ApiAssert.FailsAsync(() => Call("TagResources", new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { "eni-nothere" }, Tag = new[] { new { Key = "k", Value = "v" } } }), "InvalidResourceId.NotFound", 404);
    }
}
