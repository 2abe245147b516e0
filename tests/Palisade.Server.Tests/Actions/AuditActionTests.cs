using Palisade.Client;
using Palisade.Domain.Quotas;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>The audit on the live control plane: the checks of the offline audit, on the caller's account only.</summary>
public sealed class AuditActionTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TheAuditAction_FindsWhatTheStateHolds()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        await _s.GroupAsync(vpc, "leftover");
        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "1/65535", SourceCidrIp = "10.0.0.0/8" });
        await _s.RunAsync(web, vsw);

        var audit = await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region });
        var checks = audit.Items("Findings", "Finding").Select(f => f.Str("Check")).ToList();
        Assert.Contains("internal-all-ports", checks);
        Assert.Contains("internal-wide-cidr", checks);
        Assert.Contains("unused-group", checks);
        Assert.Equal(checks.Count, audit.GetProperty("TotalCount").GetInt32());
        var allPorts = audit.Items("Findings", "Finding").First(f => f.Str("Check") == "internal-all-ports");
        Assert.Equal(("medium", web), (allPorts.Str("Severity"), allPorts.Str("SecurityGroupId")));
        Assert.Equal("10.0.0.0/8", allPorts.GetProperty("Evidence").Str("Peer"));

        var other = NewScenario();
        Assert.Empty((await other.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding"));
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("AuditSecurityGroups", new { }), "MissingParameter.RegionId", 400);
    }

    /// <summary>Issue 16: a prefix list no rule names is found (low), named in <c>PrefixListId</c>; named by a rule, it is not; another account sees none of it.</summary>
    [Fact]
    public async Task APrefixListNoRuleNames_IsFound_UntilARuleNamesIt()
    {
        var vpc = await _s.VpcAsync();
        var web = await _s.GroupAsync(vpc, "web");
        var list = (await _s.Api.CallAsync("CreatePrefixList", EcsClient.Flatten(new
        {
            RegionId = Region, AddressFamily = "IPv4", MaxEntries = 5, PrefixListName = "offices",
            Entry = new[] { new { Cidr = "198.51.100.0/24" }, new { Cidr = "203.0.113.0/24" } },
        }))).Str("PrefixListId");

        async Task<List<System.Text.Json.JsonElement>> UnusedAsync(Scenario who) =>
            [.. (await who.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding").Where(f => f.Str("Check") == "unused-prefix-list")];
        var finding = Assert.Single(await UnusedAsync(_s));
        Assert.Equal(("low", list, "", "", ""), (finding.Str("Severity"), finding.Str("PrefixListId"), finding.Str("SecurityGroupId"), finding.Str("SecurityGroupRuleId"), finding.Str("InstanceId")));
        var evidence = finding.GetProperty("Evidence");
        Assert.Equal(("offices", 2, 5), (evidence.Str("Name"), evidence.GetProperty("Entries").GetInt32(), evidence.GetProperty("MaxEntries").GetInt32()));
        Assert.Equal($"{list} holds 2 entries and no rule references it. Delete it, or name it in the rule it was made for.", finding.Str("Message"));
        Assert.Empty(await UnusedAsync(NewScenario()));

        await _s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "443/443", SourcePrefixListId = list });
        Assert.Empty(await UnusedAsync(_s));
        // Every other finding names no prefix list: the field is there, empty.
        Assert.All((await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region })).Items("Findings", "Finding"), f => Assert.Equal("", f.Str("PrefixListId")));
    }
}

/// <summary>
/// Issue 14: the audit warns close to the limits this server enforces, not to the defaults: with 10
/// rules per group and 20 per NIC configured, 9 rules in a group and 18 over a NIC are close.
/// </summary>
public sealed class AuditLimitsTests : IAsyncLifetime
{
    private TestControlPlane _plane = null!;
    private Scenario _s = null!;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync(new Limits { RulesPerGroup = 10, RulesPerNic = 20, GroupsPerInstance = 4 });
        _s = new Scenario(_plane.Client(_plane.NewAccount()));
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    [Fact]
    public async Task GroupLimitNear_FollowsTheConfiguredLimits()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var full = await _s.GroupAsync(vpc, "full");
        var half = await _s.GroupAsync(vpc, "half");
        for (var port = 1; port <= 9; port++)
        {
            await _s.AuthorizeAsync(full, new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "192.168.1.0/24" });
            await _s.AuthorizeAsync(half, new { IpProtocol = "udp", PortRange = $"{port}/{port}", SourceCidrIp = "192.168.1.0/24" });
        }
        var instance = (await _s.RunAsync(full, vsw)).Single();
        await _s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = half });

        var audit = await _s.Api.CallAsync("AuditSecurityGroups", new { RegionId = Region });
        var near = audit.Items("Findings", "Finding").Where(f => f.Str("Check") == "group-limit-near").ToList();
        var group = near.Single(f => f.Str("SecurityGroupId") == full);
        Assert.Equal(("9", "10"), (group.GetProperty("Evidence").GetProperty("Rules").ToString(), group.GetProperty("Evidence").GetProperty("Limit").ToString()));
        Assert.Equal($"{full} holds 9 of at most 10 rules.", group.Str("Message"));
        var nic = near.Single(f => f.Str("InstanceId") == instance);
        Assert.Equal($"{instance} is in 2 of at most 4 groups, with 18 of at most 20 rules over them.", nic.Str("Message"));
        Assert.Equal("18", nic.GetProperty("Evidence").GetProperty("Rules").ToString());
    }
}

/// <summary>A dry run answers DryRunOperation as ECS does, and adds what the change would open and close.</summary>
public sealed class DryRunImpactTests : ControlPlaneTest
{
    private Scenario _s = null!;

    protected override Task SetUpAsync()
    {
        _s = NewScenario();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task DryRunOfLeave_ShowsTheConnectionsTheInstanceWouldLose()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var ops = await _s.GroupAsync(vpc, "ops");
        var redis = await _s.GroupAsync(vpc, "redis");
        await _s.AuthorizeAsync(redis, new { IpProtocol = "tcp", PortRange = "6379/6379", SourceGroupId = web });
        var webInstance = (await _s.RunAsync(web, vsw)).Single();
        var redisInstance = (await _s.RunAsync(redis, vsw)).Single();
        await _s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = webInstance, SecurityGroupId = ops });

        var e = await ApiAssert.FailsAsync(() => _s.Api.CallAsync("LeaveSecurityGroup", new { RegionId = Region, InstanceId = webInstance, SecurityGroupId = web, DryRun = true }), "DryRunOperation", 400);
        var impact = e.Response.Json.GetProperty("Impact");
        Assert.True(impact.GetProperty("Computed").GetBoolean());
        var lost = Assert.Single(impact.Items("Lost", "Flow"));
        Assert.Equal((webInstance, redisInstance, "TCP"), (lost.Str("Source"), lost.Str("Target"), lost.Str("IpProtocol")));
        Assert.Equal("6379/6379", lost.Items("PortRanges", "PortRange").Single().GetString());
        Assert.Empty(impact.Items("Gained", "Flow"));
        // Nothing changed.
        Assert.Equal(2, (await _s.InstanceAsync(webInstance)).Items("SecurityGroupIds", "SecurityGroupId").Count());
    }

    /// <summary>Issue 6: the what-if of any change as an extension action, without making it.</summary>
    [Fact]
    public async Task DescribeChangeImpact_SaysWhatAChangeWouldDo_AndChangesNothing()
    {
        var vpc = await _s.VpcAsync();
        var vsw = await _s.VSwitchAsync(vpc);
        var web = await _s.GroupAsync(vpc, "web");
        var redis = await _s.GroupAsync(vpc, "redis");
        await _s.AuthorizeAsync(redis, new { IpProtocol = "tcp", PortRange = "6379/6379", SourceGroupId = web });
        var webInstance = (await _s.RunAsync(web, vsw)).Single();
        var redisInstance = (await _s.RunAsync(redis, vsw)).Single();
        var revision = Plane.Store.CurrentRevision();

        var revoke = await _s.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "RevokeSecurityGroup", SecurityGroupId = redis, IpProtocol = "tcp", PortRange = "6379/6379", SourceGroupId = web,
        }));
        var lost = Assert.Single(revoke.GetProperty("Impact").Items("Lost", "Flow"));
        Assert.Equal((webInstance, redisInstance), (lost.Str("Source"), lost.Str("Target")));

        var open = await _s.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = web, IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "0.0.0.0/0",
        }));
        // 0.0.0.0/0 lets in the VPC's other instances too (no public address: not the internet).
        var gained = Assert.Single(open.GetProperty("Impact").Items("Gained", "Flow"));
        Assert.Equal((redisInstance, webInstance, "22/22"), (gained.Str("Source"), gained.Str("Target"), gained.Items("PortRanges", "PortRange").Single().GetString()));
        Assert.Equal(revision, Plane.Store.CurrentRevision());
        Assert.Single(await _s.RulesAsync(redis));

        // The change's own errors are the answer's, and only changes may be asked about.
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeChangeImpact", new { RegionId = Region, ChangeAction = "LeaveSecurityGroup", InstanceId = webInstance, SecurityGroupId = web }),
            "InstanceLastSecurityGroup", 403);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeChangeImpact", new { RegionId = Region, ChangeAction = "DescribeInstances" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _s.Api.CallAsync("DescribeChangeImpact", new { RegionId = Region }), "MissingParameter", 400);
        Assert.Equal(revision, Plane.Store.CurrentRevision());
    }
}
