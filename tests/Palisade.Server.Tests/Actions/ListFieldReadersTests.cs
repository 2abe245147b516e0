using System.Reflection;
using Palisade.Server.Actions;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The fields each action reads from a <c>Name.N.Field</c> list are declared once, beside its reading code
/// (<see cref="FieldNames"/>), and are the only ones it may look up: in a test build a lookup of any other
/// throws (<see cref="ItemFields"/>), which the action answers as a fault of ours (500). This test sends each
/// declared list once, with whole items, through the action that reads it; and it finds the declarations by
/// reflection, so a list declared later fails here until it is sent too.
/// </summary>
public sealed class ListFieldReadersTests : ControlPlaneTest
{
    /// <summary>The declarations this test sends a list of, by declaring type and field.</summary>
    private static readonly string[] Sent =
    [
        "DescribeHostPolicy.KnownNicFields", "ObservedFlowReport.FlowDropFields", "ObservedFlowReport.FlowFields",
        "ParameterReader.TagFields", "PortRangeListRequests.EntryFields", "PrefixListRequests.EntryFields",
        "ReportAgentStatus.RuleUsageFields", "RuleRequests.PermissionFieldNames",
    ];

    [Fact]
    public void EveryListDeclared_IsSentHere()
    {
        var declared = typeof(FieldNames).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(f => f.FieldType == typeof(FieldNames))
            .Select(f => $"{f.DeclaringType!.Name}.{f.Name}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(Sent, declared);
    }

    [Fact]
    public async Task EachList_IsReadByItsAction_WithOnlyTheFieldsItDeclares()
    {
        var tenant = NewScenario("list-fields");
        var vpc = await tenant.VpcAsync();
        // Tag.N (ParameterReader.Tags) on a create and on TagResources (which counts the items too).
        var group = (await tenant.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, Tag = new[] { new { Key = "tier", Value = "web" } } })).Str("SecurityGroupId");
        await tenant.Api.CallAsync("TagResources", new { RegionId = Region, ResourceType = "securitygroup", ResourceId = new[] { group }, Tag = new[] { new { Key = "team", Value = "a" } } });
        // Permissions.N: every field a permission has is looked up, given or not.
        await tenant.Api.CallAsync("AuthorizeSecurityGroup", new
        {
            RegionId = Region, SecurityGroupId = group,
            Permissions = new[] { new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8", Policy = "Accept", Priority = "1", Description = "ssh" } },
        });
        // Entry.N of both list families: the key and its description.
        await tenant.Api.CallAsync("CreatePrefixList", new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 5, PrefixListName = "offices", Entry = new[] { new { Cidr = "10.0.0.0/24", Description = "hq" } } });
        await tenant.Api.CallAsync("CreatePortRangeList", new { RegionId = Region, MaxEntries = 5, PortRangeListName = "admin", Entry = new[] { new { PortRange = "22/22", Description = "ssh" } } });

        var instance = (await tenant.RunAsync(group, await tenant.VSwitchAsync(vpc)))[0];
        Plane.Bind(instance, "node-1", "vnet0");
        var host = Plane.HostClient("node-1");
        var rule = (await tenant.RulesAsync(group)).First().Str("SecurityGroupRuleId");
        // RuleUsage.N, Flow.N and FlowDrop.N: each looks up NetworkInterfaceId first, then the instance's.
        await host.CallAsync("ReportAgentStatus", new
        {
            RegionId = Region, HostName = "node-1", AppliedRevision = 1, InstanceId = new[] { instance },
            UsageReported = true, RuleUsage = new[] { new { InstanceId = instance, Direction = "ingress", SecurityGroupRuleId = rule, Packets = 3, Bytes = 180 } },
            FlowsReported = true, Flow = new[] { new { InstanceId = instance, SourceIp = "10.0.0.7", IpProtocol = "TCP", Port = 22, Minute = "2026-12-01T10:14Z", Connections = 2 } },
            FlowDrop = new[] { new { InstanceId = instance, Connections = 1 } },
        });
        // KnownNic.N on a host's fetch.
        await host.CallAsync("DescribeHostPolicy", new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["PerNic"] = "true", ["KnownNic.1.InstanceId"] = instance, ["KnownNic.1.Digest"] = new string('0', 32),
        });
    }
}
