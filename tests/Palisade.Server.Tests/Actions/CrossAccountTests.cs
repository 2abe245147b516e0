using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Server.Actions;
using Palisade.Server.Actions.Insight;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Account A aims every action of the catalogue at account B's resources, by ID and by every
/// filter: each call is refused with a 4xx or answers without anything of B's, and B's state,
/// tags and change history are exactly what they were. A new action fails this test until it has
/// an attack in the table.
/// </summary>
public sealed class CrossAccountTests : ControlPlaneTest
{
    private Scenario _a = null!;
    private Scenario _b = null!;
    private long _bAccount;
    private long _aAccount;
    private string _bKeyId = "";
    private string _aKeyId = "";
    private (string Vpc, string VSwitch, string Group, string Peer, string Rule, string Instance) _bIds;
    private string _bEni = "";
    private const string BEniName = "bobEniName";
    private string _bEip = "";
    private string _bEipAddress = "";
    private (string Vpc, string VSwitch, string Group, string Instance) _aIds;
    private (string PrefixList, string PortRangeList) _bLists;

    private const string BName = "bobSecretGroupName";
    private const string BDescription = "bob-secret-description";
    private const string BTag = "bobTagSecret";
    private const string BInstanceName = "bobInstanceName";

    protected override async Task SetUpAsync()
    {
        var aKey = Plane.NewAccount("alice");
        _aKeyId = aKey.AccessKeyId;
        _aAccount = aKey.AccountId;
        _a = new Scenario(Plane.Client(aKey));
        var bKey = Plane.NewAccount("bob");
        _bAccount = bKey.AccountId;
        _bKeyId = bKey.AccessKeyId;
        _b = new Scenario(Plane.Client(bKey));

        var vpc = await _b.VpcAsync();
        var vsw = await _b.VSwitchAsync(vpc);
        var sg = (await _b.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = BName, Description = BDescription })).Str("SecurityGroupId");
        var peer = await _b.GroupAsync(vpc, "peer");
        await _b.AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "443/443", SourceGroupId = peer });
        var rule = (await _b.RulesAsync(sg)).Single().Str("SecurityGroupRuleId");
        var instance = (await _b.RunAsync(sg, vsw)).Single();
        await _b.Api.CallAsync("ModifyInstanceAttribute", new { InstanceId = instance, InstanceName = BInstanceName });
        foreach (var (type, id) in new[] { ("securitygroup", sg), ("instance", instance) })
            await _b.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = type, ResourceId = new[] { id }, Tag = new[] { new { Key = BTag, Value = BTag } } });
        Plane.Bind(instance, "node-1", "vnet0");
        // node-1's agent has counted hits of B's rule: usage A must neither see nor change.
        await Plane.HostClient("node-1").CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = 1, InstanceId = new[] { instance }, UsageReported = true,
            RuleUsage = new[] { new { InstanceId = instance, Direction = "ingress", SecurityGroupRuleId = rule, Packets = 3, Bytes = 180 } } });
        // ... and sampled flows to B's NIC (issue 20): addresses A must neither see nor add to.
        await Plane.HostClient("node-1").CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = 1, InstanceId = new[] { instance }, FlowsReported = true,
            Flow = new[] { new { InstanceId = instance, SourceIp = "203.0.113.77", IpProtocol = "TCP", Port = 443, Minute = "2026-12-01T10:00Z", Connections = 5 } } });
        _bIds = (vpc, vsw, sg, peer, rule, instance);
        // B's prefix list and port-range list, named as B's secrets, used by a rule of B's peer group.
        var pl = (await _b.Api.CallAsync("CreatePrefixList", new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 2, PrefixListName = BName, Description = BDescription, Entry = new[] { new { Cidr = "203.0.113.0/24", Description = BDescription } } })).Str("PrefixListId");
        var prl = (await _b.Api.CallAsync("CreatePortRangeList", new { RegionId = Region, MaxEntries = 2, PortRangeListName = BName, Description = BDescription, Entry = new[] { new { PortRange = "8080/8081" } } })).Str("PortRangeListId");
        await _b.AuthorizeAsync(peer, new { IpProtocol = "tcp", PortRangeListId = prl, SourcePrefixListId = pl });
        _bLists = (pl, prl);
        _bEni = (await _b.Api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = sg, NetworkInterfaceName = BEniName, SecondaryPrivateIpAddressCount = 1 })).Str("NetworkInterfaceId");
        await _b.Api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = _bEni, InstanceId = instance });
        // B's secondary ENI is a NIC of its own on node-1 (issue 16 item 6): A learns neither it nor its interface.
        Plane.Hosts.BindNetworkInterface(_bEni, "node-1", "vnet1");
        var bEip = await _b.Api.CallAsync("AllocateEipAddress", new { RegionId = Region, Name = "bobEip" }, ApiVersions.Vpc);
        (_bEip, _bEipAddress) = (bEip.Str("AllocationId"), bEip.Str("EipAddress"));
        await _b.Api.CallAsync("AssociateEipAddress", new { RegionId = Region, AllocationId = _bEip, InstanceId = instance }, ApiVersions.Vpc);
        await _b.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { _bEni }, Tag = new[] { new { Key = BTag, Value = BTag } } });

        var aVpc = await _a.VpcAsync("10.0.0.0/16");
        var aVsw = await _a.VSwitchAsync(aVpc, "10.0.1.0/24");
        var aSg = await _a.GroupAsync(aVpc, "alices");
        _aIds = (aVpc, aVsw, aSg, (await _a.RunAsync(aSg, aVsw)).Single());
    }

    private IEnumerable<(string Action, string Version, object Parameters)> Attacks()
    {
        var b = _bIds;
        var a = _aIds;
        const string ecs = ApiVersions.Ecs, vpc = ApiVersions.Vpc, ram = ApiVersions.Ram;
        var bIds = JsonSerializer.Serialize(new[] { b.Group, b.Peer });
        var rule = new { IpProtocol = "tcp", PortRange = "1/1" };
        return
        [
            ("CreateVpc", vpc, new { RegionId = Region, CidrBlock = "172.16.0.0/12" }),
            ("DescribeVpcs", vpc, new { RegionId = Region, VpcId = b.Vpc }),
            ("DeleteVpc", vpc, new { RegionId = Region, VpcId = b.Vpc }),
            ("CreateVSwitch", vpc, new { RegionId = Region, VpcId = b.Vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "192.168.9.0/24" }),
            ("DescribeVSwitches", vpc, new { RegionId = Region, VpcId = b.Vpc }),
            ("DescribeVSwitches", vpc, new { RegionId = Region, VSwitchId = b.VSwitch }),
            ("DeleteVSwitch", vpc, new { RegionId = Region, VSwitchId = b.VSwitch }),
            ("CreateSecurityGroup", ecs, new { RegionId = Region, VpcId = b.Vpc, SecurityGroupName = "squat" }),
            ("DeleteSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, SecurityGroupIds = bIds }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, VpcId = b.Vpc }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, SecurityGroupName = BName }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, SecurityGroupName = "bob", FuzzyQuery = true }),
            ("DescribeSecurityGroups", ecs, new { RegionId = Region, Tag = new[] { new { Key = BTag, Value = BTag } } }),
            ("DescribeSecurityGroupAttribute", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("ModifySecurityGroupAttribute", ecs, new { RegionId = Region, SecurityGroupId = b.Group, SecurityGroupName = "renamed" }),
            ("ModifySecurityGroupPolicy", ecs, new { RegionId = Region, SecurityGroupId = b.Group, InnerAccessPolicy = "Drop" }),
            ("AuthorizeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, rule.IpProtocol, rule.PortRange, SourceCidrIp = "0.0.0.0/0" }),
            ("AuthorizeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, rule.IpProtocol, rule.PortRange, SourceGroupId = b.Group }),
            ("AuthorizeSecurityGroupEgress", ecs, new { RegionId = Region, SecurityGroupId = b.Group, rule.IpProtocol, rule.PortRange, DestCidrIp = "0.0.0.0/0" }),
            ("AuthorizeSecurityGroupEgress", ecs, new { RegionId = Region, SecurityGroupId = a.Group, rule.IpProtocol, rule.PortRange, DestGroupId = b.Peer }),
            ("RevokeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, SecurityGroupRuleId = new[] { b.Rule } }),
            ("RevokeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, SecurityGroupRuleId = new[] { b.Rule } }),
            ("RevokeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, IpProtocol = "tcp", PortRange = "443/443", SourceGroupId = b.Peer }),
            ("RevokeSecurityGroupEgress", ecs, new { RegionId = Region, SecurityGroupId = b.Group, SecurityGroupRuleId = new[] { b.Rule } }),
            ("ModifySecurityGroupRule", ecs, new { RegionId = Region, SecurityGroupId = b.Group, SecurityGroupRuleId = b.Rule, PortRange = "1/2" }),
            ("ModifySecurityGroupRule", ecs, new { RegionId = Region, SecurityGroupId = a.Group, SecurityGroupRuleId = b.Rule, PortRange = "1/2" }),
            ("ModifySecurityGroupEgressRule", ecs, new { RegionId = Region, SecurityGroupId = b.Group, SecurityGroupRuleId = b.Rule, PortRange = "1/2" }),
            ("DescribeSecurityGroupReferences", ecs, new { RegionId = Region, SecurityGroupId = new[] { b.Group, b.Peer } }),
            ("JoinSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, InstanceId = a.Instance }),
            ("JoinSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, InstanceId = b.Instance }),
            ("LeaveSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, InstanceId = b.Instance }),
            ("TagResources", ecs, new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b.Group }, Tag = new[] { new { Key = "k", Value = "v" } } }),
            ("TagResources", ecs, new { RegionId = Region, ResourceType = "instance", ResourceId = new[] { b.Instance }, Tag = new[] { new { Key = BTag, Value = "overwritten" } } }),
            ("UntagResources", ecs, new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b.Group }, TagKey = new[] { BTag } }),
            ("UntagResources", ecs, new { RegionId = Region, ResourceType = "instance", ResourceId = new[] { b.Instance }, All = true }),
            ("ListTagResources", ecs, new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { b.Group } }),
            ("ListTagResources", ecs, new { RegionId = Region, ResourceType = "instance", Tag = new[] { new { Key = BTag, Value = BTag } } }),
            ("RunInstances", ecs, new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = b.Group, VSwitchId = a.VSwitch }),
            ("RunInstances", ecs, new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = a.Group, VSwitchId = b.VSwitch }),
            ("CreateInstance", ecs, new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", SecurityGroupId = b.Group, VSwitchId = b.VSwitch }),
            ("DescribeInstances", ecs, new { RegionId = Region, InstanceIds = JsonSerializer.Serialize(new[] { b.Instance }) }),
            ("DescribeInstances", ecs, new { RegionId = Region, VpcId = b.Vpc }),
            ("DescribeInstances", ecs, new { RegionId = Region, VSwitchId = b.VSwitch }),
            ("DescribeInstances", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeInstances", ecs, new { RegionId = Region, InstanceName = BInstanceName }),
            ("DescribeInstances", ecs, new { RegionId = Region, InstanceName = "bob*" }),
            ("DescribeInstanceEffectiveRules", ecs, new { RegionId = Region, InstanceId = b.Instance }),
            ("DescribeInstances", ecs, new { RegionId = Region, Tag = new[] { new { Key = BTag, Value = BTag } } }),
            ("StartInstance", ecs, new { InstanceId = b.Instance }),
            ("StopInstance", ecs, new { InstanceId = b.Instance }),
            ("DeleteInstance", ecs, new { InstanceId = b.Instance, Force = true }),
            ("DeleteInstances", ecs, new { RegionId = Region, InstanceId = new[] { b.Instance }, Force = true }),
            ("ModifyInstanceAttribute", ecs, new { InstanceId = b.Instance, InstanceName = "renamed" }),
            ("ModifyInstanceAttribute", ecs, new { InstanceId = a.Instance, SecurityGroupIds = new[] { b.Group } }),
            ("CreateNetworkInterface", ecs, new { RegionId = Region, VSwitchId = b.VSwitch, SecurityGroupId = a.Group }),
            ("CreateNetworkInterface", ecs, new { RegionId = Region, VSwitchId = a.VSwitch, SecurityGroupId = b.Group }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, NetworkInterfaceId = new[] { _bEni } }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, VpcId = b.Vpc }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, InstanceId = b.Instance }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, NetworkInterfaceName = BEniName }),
            ("DescribeNetworkInterfaces", ecs, new { RegionId = Region, Tag = new[] { new { Key = BTag, Value = BTag } } }),
            ("AttachNetworkInterface", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, InstanceId = a.Instance }),
            ("DetachNetworkInterface", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, InstanceId = b.Instance }),
            ("DeleteNetworkInterface", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni }),
            ("ModifyNetworkInterfaceAttribute", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, NetworkInterfaceName = "renamed" }),
            ("ModifyNetworkInterfaceAttribute", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, SecurityGroupId = new[] { a.Group } }),
            ("AssignPrivateIpAddresses", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, SecondaryPrivateIpAddressCount = 1 }),
            ("UnassignPrivateIpAddresses", ecs, new { RegionId = Region, NetworkInterfaceId = _bEni, PrivateIpAddress = new[] { "192.168.1.3" } }),
            ("JoinSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, NetworkInterfaceId = _bEni }),
            ("LeaveSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = b.Group, NetworkInterfaceId = _bEni }),
            ("TagResources", ecs, new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { _bEni }, Tag = new[] { new { Key = BTag, Value = "overwritten" } } }),
            ("ListTagResources", ecs, new { RegionId = Region, ResourceType = "eni", ResourceId = new[] { _bEni } }),
            ("ListTagResources", ecs, new { RegionId = Region, ResourceType = "eni", Tag = new[] { new { Key = BTag, Value = BTag } } }),
            ("AllocatePublicIpAddress", ecs, new { InstanceId = b.Instance }),
            ("AllocateEipAddress", vpc, new { RegionId = Region }),
            ("AssociateEipAddress", vpc, new { RegionId = Region, AllocationId = _bEip, InstanceId = a.Instance }),
            ("AssociateEipAddress", vpc, new { RegionId = Region, AllocationId = _bEip, InstanceId = _bEni, InstanceType = "NetworkInterface" }),
            ("UnassociateEipAddress", vpc, new { RegionId = Region, AllocationId = _bEip }),
            ("ReleaseEipAddress", vpc, new { RegionId = Region, AllocationId = _bEip }),
            ("DescribeEipAddresses", vpc, new { RegionId = Region, AllocationId = _bEip }),
            ("DescribeEipAddresses", vpc, new { RegionId = Region, AssociatedInstanceId = b.Instance }),
            ("DescribeEipAddresses", vpc, new { RegionId = Region, EipAddress = _bEipAddress }),
            ("DescribeChanges", ecs, new { AfterRevision = 0, MaxResults = 1000 }),
            // A's key asking a poll for a host's policy (the wake's extension): a host credential's alone.
            ("DescribeChanges", ecs, new { AfterRevision = 0, IncludeHostPolicy = true, RegionId = Region }),
            ("DescribeChanges", ecs, new { AfterRevision = 0, IncludeHostPolicy = true, RegionId = Region, HostName = "node-1" }),
            // A's key posing as B's host's agent, its status report carried by a poll (nineteenth session): refused, B's reports unchanged.
            ("DescribeChanges", ecs, new { RegionId = Region, AfterRevision = 0, WaitSeconds = 0, CarriesStatusReport = true, AppliedRevision = 1_000_000, InstanceId = new[] { b.Instance }, NetworkInterfaceId = new[] { _bEni } }),
            ("AuditSecurityGroups", ecs, new { RegionId = Region }),
            ("DescribeReachability", ecs, new { RegionId = Region }),
            ("DescribeReachability", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("ExplainFlow", ecs, new { RegionId = Region, Source = b.Instance, Destination = a.Instance, IpProtocol = "tcp", DestinationPort = 22 }),
            ("ExplainFlow", ecs, new { RegionId = Region, Source = a.Instance, Destination = b.Instance, IpProtocol = "icmp" }),
            ("DescribeActionTrail", ecs, new { MaxResults = 100 }),
            ("BindHostInterface", ecs, new { RegionId = Region, InstanceId = b.Instance, HostName = "node-2", InterfaceName = "vnet9" }),
            ("BindHostInterface", ecs, new { RegionId = Region, InstanceId = a.Instance, HostName = "node-1", InterfaceName = "vnet0" }),
            ("UnbindHostInterface", ecs, new { RegionId = Region, InstanceId = b.Instance }),
            ("DescribeHostInterfaces", ecs, new { RegionId = Region, HostName = "node-1" }),
            ("DescribeHostInterfaces", ecs, new { RegionId = Region }),
            ("DescribeHostPolicy", ecs, new { RegionId = Region, HostName = "node-1" }),
            ("ReportAgentStatus", ecs, new { RegionId = Region, HostName = "node-1", AppliedRevision = 1_000_000, InstanceId = new[] { b.Instance } }),
            ("ReportAgentStatus", ecs, new { RegionId = Region, HostName = "node-1", AppliedRevision = 1_000_000, NetworkInterfaceId = new[] { _bEni } }),
            // A's agent on B's host, counting hits for B's NIC and rule: dropped, B's usage unchanged (BState).
            ("ReportAgentStatus", ecs, new { RegionId = Region, HostName = "node-1", AppliedRevision = 1, UsageReported = true,
                RuleUsage = new[] { new { InstanceId = b.Instance, Direction = "ingress", SecurityGroupRuleId = b.Rule, Packets = 7, Bytes = 420 } } }),
            ("DescribeSecurityGroupRuleUsage", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeSecurityGroupRuleUsage", ecs, new { RegionId = Region, SecurityGroupId = a.Group }),
            // A's key posing as B's host's agent, sampling flows for B's NIC: refused, B's flows unchanged (BState).
            ("ReportAgentStatus", ecs, new { RegionId = Region, HostName = "node-1", AppliedRevision = 1, FlowsReported = true,
                Flow = new[] { new { InstanceId = b.Instance, SourceIp = "198.51.100.9", IpProtocol = "TCP", Port = 22, Minute = "2026-12-01T10:00Z", Connections = 9 } } }),
            ("DescribeSecurityGroupObservedFlows", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeSecurityGroupObservedFlows", ecs, new { RegionId = Region, SecurityGroupId = a.Group }),
            ("DescribeSecurityGroupRuleSuggestion", ecs, new { RegionId = Region, SecurityGroupId = b.Group }),
            ("DescribeSecurityGroupRuleSuggestion", ecs, new { RegionId = Region, SecurityGroupId = a.Group }),
            ("DescribeChangeImpact", ecs, new { RegionId = Region, ChangeAction = "LeaveSecurityGroup", InstanceId = b.Instance, SecurityGroupId = b.Group }),
            ("DescribeChangeImpact", ecs, new { RegionId = Region, ChangeAction = "RevokeSecurityGroup", SecurityGroupId = b.Group, SecurityGroupRuleId = new[] { b.Rule } }),
            ("DescribeRegions", ecs, new { }),
            ("DescribeZones", ecs, new { RegionId = Region }),
            ("ExportSecurityState", ecs, new { RegionId = Region }),
            ("CreateAccessKey", ram, new { }),
            ("ListAccessKeys", ram, new { }),
            ("UpdateAccessKey", ram, new { UserAccessKeyId = _bKeyId, Status = "Inactive" }),
            ("DeleteAccessKey", ram, new { UserAccessKeyId = _bKeyId }),
            ("JoinResourceGroup", ecs, new { RegionId = Region, ResourceId = b.Group, ResourceType = "securitygroup", ResourceGroupId = "rg-stolen" }),
            ("JoinResourceGroup", ecs, new { RegionId = Region, ResourceId = b.Instance, ResourceType = "instance", ResourceGroupId = "rg-stolen" }),
            ("GetCallerIdentity", "2015-04-01", new { }),
            ("CreatePrefixList", ecs, new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 1, PrefixListName = "alices" }),
            ("ModifyPrefixList", ecs, new { RegionId = Region, PrefixListId = _bLists.PrefixList, PrefixListName = "renamed", AddEntry = new[] { new { Cidr = "10.0.0.0/8" } } }),
            ("DeletePrefixList", ecs, new { RegionId = Region, PrefixListId = _bLists.PrefixList }),
            ("DescribePrefixLists", ecs, new { RegionId = Region }),
            ("DescribePrefixLists", ecs, new { RegionId = Region, PrefixListId = new[] { _bLists.PrefixList } }),
            ("DescribePrefixLists", ecs, new { RegionId = Region, PrefixListName = BName }),
            ("DescribePrefixListAttributes", ecs, new { RegionId = Region, PrefixListId = _bLists.PrefixList }),
            ("DescribePrefixListAssociations", ecs, new { RegionId = Region, PrefixListId = _bLists.PrefixList }),
            ("AuthorizeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, IpProtocol = "tcp", PortRange = "1/1", SourcePrefixListId = _bLists.PrefixList }),
            ("AuthorizeSecurityGroupEgress", ecs, new { RegionId = Region, SecurityGroupId = a.Group, IpProtocol = "tcp", PortRange = "1/1", DestPrefixListId = _bLists.PrefixList }),
            ("CreatePortRangeList", ecs, new { RegionId = Region, MaxEntries = 1, PortRangeListName = "alices" }),
            ("ModifyPortRangeList", ecs, new { RegionId = Region, PortRangeListId = _bLists.PortRangeList, AddEntry = new[] { new { PortRange = "1/2" } } }),
            ("DeletePortRangeList", ecs, new { RegionId = Region, PortRangeListId = _bLists.PortRangeList }),
            ("DescribePortRangeLists", ecs, new { RegionId = Region }),
            ("DescribePortRangeLists", ecs, new { RegionId = Region, PortRangeListId = new[] { _bLists.PortRangeList } }),
            ("DescribePortRangeLists", ecs, new { RegionId = Region, PortRangeListName = BName }),
            ("DescribePortRangeListEntries", ecs, new { RegionId = Region, PortRangeListId = _bLists.PortRangeList }),
            ("DescribePortRangeListAssociations", ecs, new { RegionId = Region, PortRangeListId = _bLists.PortRangeList }),
            ("AuthorizeSecurityGroup", ecs, new { RegionId = Region, SecurityGroupId = a.Group, IpProtocol = "tcp", PortRangeListId = _bLists.PortRangeList, SourceCidrIp = "10.0.0.0/8" }),
        ];
    }

    private string BState() => Plane.Store.Read(s => StateExport.Json(s, _bAccount, Region))
        + string.Join(",", Plane.Store.Read(s => s.ListTagsOfType(_bAccount, "securitygroup").Concat(s.ListTagsOfType(_bAccount, "instance")).Concat(s.ListTagsOfType(_bAccount, "eni"))))
        + string.Join(",", Plane.Store.Read(s => s.PrefixLists.List(_bAccount, Region).Select(l => $"{l.Id} {l.Name} {l.Description} {string.Join(" ", l.Entries)}")
            .Concat(s.PortRangeLists.List(_bAccount, Region).Select(l => $"{l.Id} {l.Name} {l.Description} {string.Join(" ", l.Entries)}"))))
        + string.Join(",", Plane.Store.Read(s => s.Eips.List(_bAccount, Region)))
        + string.Join(",", Plane.Store.Read(s => s.NetworkInterfaces.List(_bAccount, Region).Select(e => $"{e with { PrivateAddresses = [], SecurityGroupIds = [] }} {string.Join(' ', e.PrivateAddresses)} {string.Join(' ', e.SecurityGroupIds)}")))
        + string.Join(",", Plane.Store.Read(s => s.ListHostBindings(_bAccount, null).Select(b => (object)b).Concat(s.ListAgentReports(_bAccount, null))))
        + string.Join(",", Plane.Store.Read(s => s.ListRuleUsage(_bAccount, [_bIds.Rule], DateTimeOffset.UnixEpoch).Select(u => (object)u).Concat(s.ListUsageHosts(_bAccount))))
        + string.Join(",", Plane.Store.Read(s => s.ListObservedFlows(_bAccount, [InstanceId.Parse(_bIds.Instance)], DateTimeOffset.UnixEpoch).Select(f => (object)f).Concat(s.ListFlowHosts(_bAccount))))
        + string.Join(",", Plane.Store.Read(s => s.ListAccessKeys(_bAccount).Select(k => $"{k.AccessKeyId} {k.Status} {k.ReadOnly}")))
        + string.Join(",", Plane.Store.Read(s => s.Groups.List(_bAccount, Region).Select(g => g.ResourceGroupId).Concat(s.Instances.List(_bAccount, Region).Select(i => i.ResourceGroupId))));

    [Fact]
    public async Task EveryAction_AimedAtAnotherAccount_FindsNothing_AndChangesNothing()
    {
        var attacks = Attacks().ToList();
        var uncovered = ActionCatalog.FromAssembly().All.Select(x => x.Name).Except(attacks.Select(x => x.Action)).Order().ToList();
        Assert.True(uncovered.Count == 0, $"no cross-account attack for: {string.Join(", ", uncovered)}");

        var before = BState();
        var setup = Plane.Store.Read(s => s.LatestRevision(_bAccount));
        var bIds = new[] { _bIds.Vpc, _bIds.VSwitch, _bIds.Group, _bIds.Peer, _bIds.Rule, _bIds.Instance, _bKeyId, _bLists.PrefixList, _bLists.PortRangeList, _bEni, BEniName, _bEip, _bEipAddress };
        var failures = new List<string>();
        foreach (var (action, version, parameters) in attacks)
        {
            var response = await _a.Api.SendAsync(action, EcsClient.Flatten(parameters), version);
            var call = $"{action} {JsonSerializer.Serialize(parameters)}";
            if (!response.IsSuccess)
            {
                if (response.Status is < 400 or >= 500)
                    failures.Add($"{call} -> HTTP {response.Status}");
                continue;
            }
            if (action == "DescribeActionTrail")
            {
                // A's trail holds A's own requests (B's IDs among their parameters), and nobody else's.
                if (response.Json.Items("Events", "Event").FirstOrDefault(e => e.Str("AccessKeyId") != _aKeyId) is { ValueKind: JsonValueKind.Object } other)
                    failures.Add($"{call} -> listed another key's event {other.GetRawText()}");
                continue;
            }
            // A's own rule may name B's group as its peer (ECS allows it, with B's owner ID); nothing else of B's may show.
            var body = response.Body.Replace($"\"SourceGroupId\":\"{_bIds.Group}\"", "", StringComparison.Ordinal).Replace($"\"DestGroupId\":\"{_bIds.Peer}\"", "", StringComparison.Ordinal);
            if (new[] { BName, BDescription, BTag, BInstanceName }.Concat(bIds).FirstOrDefault(m => body.Contains(m, StringComparison.Ordinal)) is { } leaked)
                failures.Add($"{call} -> succeeded and showed B's '{leaked}'");
            if (action == "DescribeChanges")
            {
                // Each account numbers its own changes: A's feed must be exactly A's, by number and action.
                var mine = Plane.Store.Read(s => s.ListRevisions(_aAccount, 0, 1000)).ToDictionary(r => r.Revision, r => r.Action);
                if (response.Json.Items("Changes", "Change").Any(c => mine.GetValueOrDefault(c.GetProperty("Revision").GetInt64()) != c.Str("Action"))
                    || response.Json.GetProperty("CurrentRevision").GetInt64() != mine.Keys.DefaultIfEmpty(0).Max())
                    failures.Add($"{call} -> listed changes or a revision that are not A's");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, BState());
        Assert.Empty(Plane.Store.Read(s => s.ListRevisions(_bAccount, setup, 10)));
        // And B still sees all of it, its counted hits too (the same 3 packets A's report could not add to).
        Assert.Equal(3, Plane.Store.Read(s => s.ListRuleUsage(_bAccount, [_bIds.Rule], DateTimeOffset.UnixEpoch)).Single().Packets);
        Assert.Equal(5, Plane.Store.Read(s => s.ListObservedFlows(_bAccount, [InstanceId.Parse(_bIds.Instance)], DateTimeOffset.UnixEpoch)).Single().Connections);
        Assert.Equal(BInstanceName, (await _b.InstanceAsync(_bIds.Instance)).Str("InstanceName"));
        Assert.Single(await _b.RulesAsync(_bIds.Group));
    }

    /// <summary>
    /// Issue 18: a host credential is nobody's tenant key. The agent of a host that carries none of
    /// B's NICs (node-2) aims its actions at B's NIC on node-1: it learns nothing of B's, and B's
    /// state, bindings and reports stay as they were. Tenant A cannot bind at all, nor read a host's policy.
    /// </summary>
    [Fact]
    public async Task AnotherHostsAgent_FindsNothingOfB_AndChangesNothing()
    {
        Plane.Bind(_aIds.Instance, "node-2", "vnet0");
        var node2 = Plane.HostClient("node-2");
        var before = BState();
        var setup = Plane.Store.Read(s => s.LatestRevision(_bAccount));
        var own = await node2.CallAsync("DescribeHostPolicy", new { RegionId = Region });
        var feed = await node2.CallAsync("DescribeChanges", new { AfterRevision = "0", MaxResults = 1000 });
        var bIds = new[] { _bIds.Vpc, _bIds.Group, _bIds.Peer, _bIds.Instance, _bEni, BName, BInstanceName, _bAccount.ToString(CultureInfo.InvariantCulture) };
        foreach (var body in new[] { own.GetRawText(), feed.GetRawText() })
            Assert.DoesNotContain(bIds, body.Contains);
        await ApiAssert.FailsAsync(() => node2.CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = "node-1" }), "Forbidden.HostCredential", 403);
        await ApiAssert.FailsAsync(() => node2.CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = 1_000_000, InstanceId = new[] { _bIds.Instance } }),
            "Forbidden.HostCredential", 403);
        // Its own host's report naming B's NIC is ignored: B's NIC is not on node-2.
        await node2.CallAsync("ReportAgentStatus", new { RegionId = Region, AppliedRevision = 1_000_000, InstanceId = new[] { _bIds.Instance, _aIds.Instance }, NetworkInterfaceId = new[] { _bEni } });
        // The same with the report carried by its poll (nineteenth session): B's host refused, its own host's report ignored for B's NIC.
        await ApiAssert.FailsAsync(() => node2.CallAsync("DescribeChanges", new { RegionId = Region, HostName = "node-1", AfterRevision = "0", WaitSeconds = 0, CarriesStatusReport = true, AppliedRevision = 1_000_000, InstanceId = new[] { _bIds.Instance } }),
            "Forbidden.HostCredential", 403);
        // From the host's current revision: a poll with no change answers once its report is written (one with
        // changes would answer at once, before it: twentieth session), so B's state below is checked after the write.
        Assert.True((await node2.CallAsync("DescribeChanges", new { RegionId = Region, AfterRevision = Plane.Store.CurrentRevision().ToString(CultureInfo.InvariantCulture), WaitSeconds = 0, CarriesStatusReport = true, AppliedRevision = 1_000_000,
            InstanceId = new[] { _bIds.Instance, _aIds.Instance }, NetworkInterfaceId = new[] { _bEni } })).GetProperty("StatusReported").GetBoolean());
        // So are flows it claims to have sampled for B's NIC: B's flows stay as they were (BState).
        await node2.CallAsync("ReportAgentStatus", new { RegionId = Region, AppliedRevision = 1, FlowsReported = true,
            Flow = new[] { new { InstanceId = _bIds.Instance, SourceIp = "198.51.100.9", IpProtocol = "TCP", Port = 22, Minute = "2026-12-01T10:00Z", Connections = 9 } } });
        await ApiAssert.FailsAsync(() => node2.CallAsync("DescribeInstances", new { RegionId = Region }), "Forbidden.HostCredential", 403);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = _bIds.Instance, HostName = "node-2", InterfaceName = "vnet1" }), "Forbidden.OperatorAct", 403);
        Assert.Equal(before, BState());
        Assert.Empty(Plane.Store.Read(s => s.ListRevisions(_bAccount, setup, 10)));
        // B sees its two NICs on node-1 (its instance's primary ENI and its secondary ENI), neither in sync.
        var bSees = (await _b.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).Items("HostInterfaces", "HostInterface").ToList();
        Assert.Equal(["vnet0", "vnet1"], bSees.Select(i => i.Str("InterfaceName")));
        Assert.Equal(_bEni, bSees[1].Str("NetworkInterfaceId"));
        Assert.All(bSees, i => Assert.False(i.GetProperty("InSync").GetBoolean()));
        // And A, which has a NIC on node-2, sees that one only: no host, interface or ENI of B's.
        var aSees = (await _a.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).Items("HostInterfaces", "HostInterface").ToList();
        Assert.Equal([("node-2", "vnet0", _aIds.Instance)], aSees.Select(i => (i.Str("HostName"), i.Str("InterfaceName"), i.Str("InstanceId"))));
    }

    /// <summary>
    /// Issue 18: the operator's binds are on each tenant's trail, and each tenant's event names its
    /// own NIC, host and interface only — never the host's other tenants, their NICs or interfaces.
    /// </summary>
    [Fact]
    public async Task TheOperatorsBinds_OnASharedHost_AreOnEachTenantsTrail_WithItsOwnNicOnly()
    {
        Plane.Bind(_aIds.Instance, "node-1", "vnet2");
        Plane.Hosts.Unbind(_aIds.Instance);
        async Task<string> Trail(Scenario tenant) => (await tenant.Api.CallAsync("DescribeActionTrail", new { MaxResults = 100 })).GetRawText();
        static List<JsonElement> HostEvents(string trail) =>
            [.. JsonDocument.Parse(trail).RootElement.Items("Events", "Event").Where(e => e.Str("ActionName").EndsWith("HostInterface", StringComparison.Ordinal))];
        var aTrail = await Trail(_a);
        var aEvents = HostEvents(aTrail);
        Assert.Equal(["UnbindHostInterface", "BindHostInterface"], aEvents.Select(e => e.Str("ActionName")));
        Assert.All(aEvents, e => Assert.Contains($"\"InstanceId\":\"{_aIds.Instance}\"", e.Str("RequestParameters"), StringComparison.Ordinal));
        Assert.DoesNotContain(new[] { _bIds.Instance, _bEni, "vnet0", "vnet1", _bAccount.ToString(CultureInfo.InvariantCulture), BName, BInstanceName }, aTrail.Contains);
        // B's trail has B's two binds made at set-up (its instance's primary ENI on vnet0, its
        // secondary ENI on vnet1), and nothing of A's NIC on the same host.
        var bTrail = await Trail(_b);
        Assert.Equal(["vnet1", "vnet0"], HostEvents(bTrail).Select(e => JsonDocument.Parse(e.Str("RequestParameters")).RootElement.Str("InterfaceName")));
        Assert.DoesNotContain(new[] { _aIds.Instance, "vnet2", _aAccount.ToString(CultureInfo.InvariantCulture) }, bTrail.Contains);
    }

    [Fact]
    public async Task CrossAccountPeers_NeedTheOwnerField_AndOnlyMakeRulesOfOnesOwn()
    {
        var owner = _bAccount.ToString(CultureInfo.InvariantCulture);
        // Without the owner field B's group does not exist for A; with it, A's rule may name it as a peer.
        await ApiAssert.FailsAsync(() => _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = _bIds.Group }), "InvalidSourceGroupId.NotFound", 404);
        await _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = _bIds.Group, SourceGroupOwnerId = owner });
        await _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "22/22", DestGroupId = _bIds.Peer, DestGroupOwnerId = owner }, egress: true);
        // The owner field opens nothing else: not B's group itself, nor membership, nor launching into it.
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _bIds.Group, SourceGroupOwnerId = owner }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _a.AuthorizeAsync(_bIds.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = _aIds.Group, SourceGroupOwnerId = owner }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, SecurityGroupId = _bIds.Group, InstanceId = _aIds.Instance, OwnerId = owner }), "InvalidSecurityGroupId.NotFound", 404);
        // A's view of its own rule names B's group and B as its owner, and nothing of B's group's contents.
        var rules = await _a.RulesAsync(_aIds.Group);
        Assert.Equal(2, rules.Count);
        Assert.DoesNotContain(BName, string.Join(",", rules.Select(r => r.GetRawText())));
        // B cannot undo A's rule by naming A's group either.
        await ApiAssert.FailsAsync(() => _b.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _aIds.Group, SecurityGroupRuleId = new[] { rules[0].Str("SecurityGroupRuleId") } }), "InvalidSecurityGroupId.NotFound", 404);
        // And B's group cannot be deleted from under A's reference by A, nor is it A's to delete.
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = _bIds.Group }), "InvalidSecurityGroup.NotFound", 404);
    }

    /// <summary>
    /// Issue 19: A's rule naming B's group pinned it (B's DeleteSecurityGroup failed naming A's group),
    /// a name was accepted as the owner, and a dry run told which group IDs exist under which owner.
    /// </summary>
    [Fact]
    public async Task AReferenceToAnotherAccountsGroup_NeitherPinsItNorTellsWhetherItExists()
    {
        var bOwner = _bAccount.ToString(CultureInfo.InvariantCulture);
        await _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = _bIds.Peer, SourceGroupOwnerId = bOwner });
        // B sees no reference of A's, and deletes its group; nothing of A's is named to B.
        var references = await _b.Api.CallAsync("DescribeSecurityGroupReferences", new { RegionId = Region, SecurityGroupId = new[] { _bIds.Peer } });
        Assert.DoesNotContain(_aIds.Group, references.GetRawText(), StringComparison.Ordinal);
        await _b.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = _bIds.Group, SecurityGroupRuleId = new[] { _bIds.Rule } });
        await _b.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = _bIds.Peer });

        // The same answer whether the group exists under that owner, exists under another, or not at all.
        async Task<string> DryRun(string group, string owner)
        {
            var response = await _a.Api.SendAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = _aIds.Group, IpProtocol = "tcp", PortRange = "80/80", SourceGroupId = group, SourceGroupOwnerId = owner, DryRun = true }));
            return $"{response.Status} {response.Code}";
        }
        var answers = new[]
        {
            await DryRun(_bIds.Group, bOwner),                   // exists under B
            await DryRun(_bIds.Peer, bOwner),                    // deleted
            await DryRun("sg-bp1doesnotexist000000", bOwner),    // never existed
            await DryRun(_bIds.Group, "1234567890123456"),      // exists, under another owner
        };
        Assert.All(answers, a => Assert.Equal("400 DryRunOperation", a));

        // The owner is an account ID; another account's name is not resolved (nor told apart from a wrong one).
        var byName = await ApiAssert.FailsAsync(() => _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "23/23", SourceGroupId = _bIds.Group, SourceGroupOwnerAccount = "bob" }), "InvalidParameter", 400);
        var byWrongName = await ApiAssert.FailsAsync(() => _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "23/23", SourceGroupId = _bIds.Group, SourceGroupOwnerAccount = "nobody-here" }), "InvalidParameter", 400);
        Assert.Equal(byName.EcsMessage, byWrongName.EcsMessage);
        await _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "24/24", SourceGroupId = _bIds.Group, SourceGroupOwnerAccount = bOwner });
        // The caller's own name still names its own groups.
        var second = await _a.GroupAsync(_aIds.Vpc, "second");
        await _a.AuthorizeAsync(_aIds.Group, new { IpProtocol = "tcp", PortRange = "25/25", SourceGroupId = second, SourceGroupOwnerAccount = "alice" });
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = second }), "DependencyViolation", 403);
    }

    [Fact]
    public void IdsOfResourcesAndAccounts_ComeFromTheCryptographicGenerator()
    {
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src"));
        var offenders = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("Random.Shared", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f)).ToList();
        Assert.True(Directory.Exists(Path.Combine(root, "Palisade.Server")), root);
        Assert.Empty(offenders);
        var ids = Enumerable.Range(0, 200).Select(_ => Palisade.Domain.Identifiers.ResourceIdSyntax.NewId("sg-", "bp")).ToHashSet();
        Assert.Equal(200, ids.Count);
    }
}
