using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Observed flows (issue 20 items 5-6): what agents sample and report with their status is added up
/// per NIC, source, protocol and port, shown by <c>DescribeSecurityGroupObservedFlows</c> with who
/// sampled since when, purged past the retention; a report speaks only for the host's own NICs, and
/// a host the operator switched off is told so and keeps nothing. The server's clock is the test's.
/// </summary>
public sealed class ObservedFlowsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 15, 30, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private TestControlPlane _plane = null!;
    private EcsClient _api = null!;
    private string _group = "";
    private List<string> _instances = [];
    private long _accountId;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions { ObservedFlows = new ObservedFlowOptions { Retention = TimeSpan.FromDays(3), MaxReportGap = TimeSpan.FromHours(1), MaxFlowsPerReport = 50 } });
        var key = _plane.NewAccount("flows");
        _accountId = key.AccountId;
        _api = _plane.Client(key, SignatureStyle.V3, _clock);
        var scenario = new Scenario(_api);
        var vpc = await scenario.VpcAsync();
        _group = await scenario.GroupAsync(vpc);
        _instances = await scenario.RunAsync(_group, await scenario.VSwitchAsync(vpc), amount: 3);
        await scenario.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "1/65535", SourceCidrIp = "0.0.0.0/0" });
        _plane.Bind(_instances[0], "node-1", "vnet0");
        _plane.Bind(_instances[1], "node-2", "vnet0");
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private static object Flow(string nic, string source, int port, string minute, long connections, string protocol = "TCP") =>
        new { InstanceId = nic, SourceIp = source, IpProtocol = protocol, Port = port, Minute = minute, Connections = connections };

    private async Task<JsonElement> Report(string host, string instance, object[] flows, object[]? drops = null) =>
        await _plane.HostClient(host, clock: _clock).CallAsync("ReportAgentStatus",
            new { RegionId = Region, HostName = host, AppliedRevision = 1, InstanceId = new[] { instance }, FlowsReported = true, Flow = flows, FlowDrop = drops ?? [] });

    private async Task<(JsonElement Answer, List<string> Flows)> Flows(int? days = null)
    {
        var answer = await _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = _group, Days = days });
        return (answer, [.. answer.Items("ObservedFlows", "ObservedFlow").Select(f =>
            $"{f.Str("InstanceId")} {f.Str("SourceIp")} {f.Str("IpProtocol")} {f.GetProperty("Port").GetInt32()} {f.GetProperty("Connections").GetInt64()} {f.Str("FirstSeen")} {f.Str("LastSeen")}")]);
    }

    [Fact]
    public async Task Flows_AreAddedUpPerNicSourceProtocolAndPort_WithFirstAndLastSeen_AndWhoSamples()
    {
        var revision = _plane.Store.Read(s => s.LatestRevision(_accountId));
        var (a, b) = (_instances[0], _instances[1]);
        var answer = await Report("node-1", a, [Flow(a, "198.18.0.7", 22, "2026-12-01T10:14Z", 2), Flow(a, "198.18.0.7", 22, "2026-12-01T10:15Z", 3), Flow(a, "2001:db8::9", 443, "2026-12-01T10:15Z", 1)],
            [new { InstanceId = a, Connections = 4 }]);
        Assert.True(answer.GetProperty("FlowSampling").GetBoolean());
        var (flows, listed) = await Flows();
        Assert.Equal([$"{a} 198.18.0.7 TCP 22 5 2026-12-01T10:14:00Z 2026-12-01T10:15:00Z", $"{a} 2001:db8::9 TCP 443 1 2026-12-01T10:15:00Z 2026-12-01T10:15:00Z"], listed);
        Assert.Equal((1, "", 4L), (flows.GetProperty("HostsSampling").GetInt32(), flows.Str("SamplingSince"), flows.GetProperty("DroppedConnections").GetInt64()));
        // Reporting flows is bookkeeping: no revision, nothing wakes the feed.
        Assert.Equal(revision, _plane.Store.Read(s => s.LatestRevision(_accountId)));

        _clock.Advance(TimeSpan.FromMinutes(10));
        await Report("node-2", b, [Flow(b, "198.18.0.7", 22, "2026-12-01T10:25Z", 1), Flow(b, "198.18.0.8", 53, "2026-12-01T10:25Z", 6, "UDP")]);
        await Report("node-1", a, [Flow(a, "198.18.0.7", 22, "2026-12-01T10:25Z", 1)]);
        (flows, listed) = await Flows();
        Assert.Equal(2, flows.GetProperty("HostsSampling").GetInt32());
        Assert.Equal("2026-12-01T10:25:30Z", flows.Str("SamplingSince")); // node-2 began at 10:25:30; both sample since
        Assert.Contains($"{a} 198.18.0.7 TCP 22 6 2026-12-01T10:14:00Z 2026-12-01T10:25:00Z", listed);
        Assert.Contains($"{b} 198.18.0.8 UDP 53 6 2026-12-01T10:25:00Z 2026-12-01T10:25:00Z", listed);
        Assert.Equal(4, listed.Count);

        // Paged like ECS lists: every page together is the whole list.
        var first = await _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = _group, MaxResults = 3 });
        Assert.Equal(3, first.Items("ObservedFlows", "ObservedFlow").Count());
        var all = await _api.CallAllAsync("DescribeSecurityGroupObservedFlows", [new("RegionId", Region), new("SecurityGroupId", _group)], "ObservedFlows", "ObservedFlow");
        Assert.Equal(4, all.Items("ObservedFlows", "ObservedFlow").Count());
    }

    /// <summary>
    /// The console's <c>suggest</c>: the narrowest rules for the stored flows, the rule they replace and
    /// the what-if, with the sample's completeness; nothing changes; bad input is refused.
    /// </summary>
    [Fact]
    public async Task TheSuggestion_KeepsTheObservedFlows_ReplacesTheBroadRule_AndChangesNothing()
    {
        var (a, b) = (_instances[0], _instances[1]);
        // Members apart unless a rule admits them: then the broad rule is what lets them in.
        await _api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = _group, InnerAccessPolicy = "Drop" });
        await Report("node-1", a, [Flow(a, "198.18.0.7", 22, "2026-12-01T10:14Z", 2), Flow(a, "198.18.0.6", 22, "2026-12-01T10:14Z", 1), Flow(a, "198.18.0.9", 443, "2026-12-01T10:15Z", 1)]);
        await Report("node-2", b, [Flow(b, "198.18.0.9", 443, "2026-12-01T10:15Z", 4)]);
        var revision = _plane.Store.Read(s => s.LatestRevision(_accountId));
        var answer = await _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = _group, Days = 2 });

        Assert.Equal((_group, 2, 2, 4, 4L), (answer.Str("SecurityGroupId"), answer.GetProperty("Days").GetInt32(), answer.GetProperty("HostsSampling").GetInt32(),
            answer.GetProperty("ObservedFlowCount").GetInt32(), answer.GetProperty("FlowsKept").GetInt64()));
        Assert.Equal(0, answer.GetProperty("LostFlowCount").GetInt32());
        var replaced = Assert.Single(answer.Items("ReplacedPermissions", "Permission"));
        Assert.Equal(("1/65535", "0.0.0.0/0"), (replaced.Str("PortRange"), replaced.Str("SourceCidrIp")));
        Assert.StartsWith("sgr-", replaced.Str("SecurityGroupRuleId"), StringComparison.Ordinal);
        // 198.18.0.6 and .7 were both seen on 22 only: one aligned block; .9 on 443 only.
        var suggested = answer.Items("SuggestedPermissions", "Permission").Select(r => $"{r.Str("IpProtocol")} {r.Str("PortRange")} {r.Str("SourceCidrIp")} {r.Str("Policy")} {r.GetProperty("Priority").GetInt32()} [{r.Str("SecurityGroupRuleId")}]").Order().ToList();
        Assert.Equal(["TCP 22/22 198.18.0.6/31 Accept 1 []", "TCP 443/443 198.18.0.9/32 Accept 1 []"], suggested);
        Assert.Equal(0, answer.GetProperty("FlowsSetAside").GetProperty("NotAMember").GetInt64());
        // The members reach each other on every TCP port through 0.0.0.0/0 today; the suggestion closes that.
        Assert.True(answer.Items("Closes", "Flow").Any(), answer.GetRawText());
        Assert.Contains(answer.Items("Closes", "Flow"), f => f.Str("Source") == a && f.Str("Target") == b && f.Str("IpProtocol") == "TCP");
        Assert.Empty(answer.Items("Opens", "Flow"));
        Assert.Equal(revision, _plane.Store.Read(s => s.LatestRevision(_accountId)));
        Assert.Single((await _api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _group })).Items("Permissions", "Permission"));

        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = _group, Days = 4 }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = "sg-bp1doesnotexist000000" }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = "web" }), "InvalidSecurityGroupId.Malformed", 400);
    }

    /// <summary>
    /// Issue 20: a flow is credited to the ENI that saw it. Instance a's primary ENI is in the broad
    /// group (every TCP port from anywhere); its secondary ENI is alone in "db" (5432 from
    /// 198.18.0.0/24) and sits on another host. A flow the agent saw on the secondary ENI is db's — listed
    /// there with its ENI, kept by db's rule in db's suggestion, absent from the broad group's — while
    /// an older agent's flow naming no ENI is still the primary's. db's hosts are those carrying its ENI.
    /// </summary>
    [Fact]
    public async Task AFlowToASecondaryEni_IsCreditedToThatEnisGroupRule_NotThePrimarys_AndItsHostsSampleForIt()
    {
        var (a, b) = (_instances[0], _instances[1]);
        var scenario = new Scenario(_api);
        var vpc = (await scenario.InstanceAsync(a)).GetProperty("VpcAttributes").Str("VpcId");
        var db = await scenario.GroupAsync(vpc, name: "db");
        await scenario.AuthorizeAsync(db, new { IpProtocol = "TCP", PortRange = "5432/5432", SourceCidrIp = "198.18.0.0/24" });
        var vSwitch = (await scenario.InstanceAsync(a)).GetProperty("VpcAttributes").Str("VSwitchId");
        var eni = (await _api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vSwitch, SecurityGroupId = db })).Str("NetworkInterfaceId");
        await _api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = a });
        var primary = (await _api.CallAsync("DescribeNetworkInterfaces", new { RegionId = Region, InstanceId = a, Type = "Primary" }))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("NetworkInterfaceId");
        _plane.Bind(b, "node-3", "vnet9"); // node-3 carries b's primary too: it samples for the broad group, and for db only through the ENI
        _plane.Hosts.BindNetworkInterface(eni, "node-3", "vnet1");

        // Before any report, nobody samples for db; its one host is node-3.
        var before = await _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = db });
        Assert.Equal((0, ""), (before.GetProperty("HostsSampling").GetInt32(), before.Str("SamplingSince")));

        var node3 = _plane.HostClient("node-3", clock: _clock);
        object EniFlow(string instance, string source, int port, long connections) =>
            new { InstanceId = instance, NetworkInterfaceId = eni, SourceIp = source, IpProtocol = "TCP", Port = port, Minute = "2026-12-01T10:15Z", Connections = connections };
        await node3.CallAsync("ReportAgentStatus", new
        {
            RegionId = Region, AppliedRevision = 1, NetworkInterfaceId = new[] { eni }, InstanceId = new[] { b }, FlowsReported = true,
            Flow = new[] { EniFlow(a, "198.18.0.7", 5432, 3), EniFlow(b, "198.18.0.8", 5432, 1) }, // the second names the ENI with the wrong instance: not kept
            FlowDrop = new[] { new { InstanceId = a, NetworkInterfaceId = eni, Connections = 2 } },
        });
        // node-1 carries a's primary, not the ENI: it cannot speak for it; without an ENI its flow is the primary's.
        await _plane.HostClient("node-1", clock: _clock).CallAsync("ReportAgentStatus", new
        {
            RegionId = Region, AppliedRevision = 1, InstanceId = new[] { a }, FlowsReported = true,
            Flow = new[] { EniFlow(a, "198.18.0.9", 5432, 5), Flow(a, "198.18.0.6", 22, "2026-12-01T10:15Z", 4) },
        });

        var dbFlows = await _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = db });
        var listed = Assert.Single(dbFlows.Items("ObservedFlows", "ObservedFlow"));
        Assert.Equal((a, eni, "198.18.0.7", 5432, 3L), (listed.Str("InstanceId"), listed.Str("NetworkInterfaceId"), listed.Str("SourceIp"), listed.GetProperty("Port").GetInt32(), listed.GetProperty("Connections").GetInt64()));
        // db's hosts are the one carrying its ENI; it samples, and what it dropped is its ENI's.
        Assert.Equal((1, "2026-12-01T10:15:30Z", 2L), (dbFlows.GetProperty("HostsSampling").GetInt32(), dbFlows.Str("SamplingSince"), dbFlows.GetProperty("DroppedConnections").GetInt64()));

        var broad = await _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = _group });
        Assert.Equal([(a, primary, "198.18.0.6", 22)], broad.Items("ObservedFlows", "ObservedFlow").Select(f => (f.Str("InstanceId"), f.Str("NetworkInterfaceId"), f.Str("SourceIp"), f.GetProperty("Port").GetInt32())));
        Assert.Equal(2, broad.GetProperty("HostsSampling").GetInt32()); // node-1 and node-3 (b's primary); node-2 has not reported

        // The suggestion for db keeps the flow by db's own rule: the engine judged it at the ENI, whose groups are db alone.
        var dbSuggestion = await _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = db });
        Assert.Equal((1, 1L, 0L, 0L), (dbSuggestion.GetProperty("ObservedFlowCount").GetInt32(), dbSuggestion.GetProperty("FlowsKept").GetInt64(),
            dbSuggestion.GetProperty("FlowsSetAside").GetProperty("NotAMember").GetInt64(), dbSuggestion.GetProperty("FlowsSetAside").GetProperty("NoLongerAdmitted").GetInt64()));
        Assert.Equal(("5432/5432", "198.18.0.0/24"), Assert.Single(dbSuggestion.Items("ReplacedPermissions", "Permission")) is var r ? (r.Str("PortRange"), r.Str("SourceCidrIp")) : default);
        Assert.Equal(("TCP", "5432/5432", "198.18.0.7/32"), Assert.Single(dbSuggestion.Items("SuggestedPermissions", "Permission")) is var sr ? (sr.Str("IpProtocol"), sr.Str("PortRange"), sr.Str("SourceCidrIp")) : default);
        // The broad group's suggestion knows only the primary's flow: 5432 from .7 is not among what it keeps.
        var broadSuggestion = await _api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = _group });
        Assert.Equal((1, 1L), (broadSuggestion.GetProperty("ObservedFlowCount").GetInt32(), broadSuggestion.GetProperty("FlowsKept").GetInt64()));
        Assert.Equal(["TCP 22/22 198.18.0.6/32"], broadSuggestion.Items("SuggestedPermissions", "Permission").Select(p => $"{p.Str("IpProtocol")} {p.Str("PortRange")} {p.Str("SourceCidrIp")}"));
    }

    [Fact]
    public async Task FlowsPastTheRetention_AreDropped_AndAMinuteFromTheFuture_CountsAsNow()
    {
        var a = _instances[0];
        await Report("node-1", a, [Flow(a, "198.18.0.1", 80, "2026-11-20T10:00Z", 9), Flow(a, "198.18.0.2", 80, "2026-12-09T00:00Z", 1)]);
        var (_, listed) = await Flows();
        Assert.Equal([$"{a} 198.18.0.2 TCP 80 1 2026-12-01T10:15:00Z 2026-12-01T10:15:00Z"], listed);
        _clock.Advance(TimeSpan.FromDays(4));
        await Report("node-1", a, []);
        Assert.Empty(_plane.Store.Read(s => s.ListObservedFlows(_accountId, [InstanceId.Parse(a)], DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public async Task AReport_SpeaksOnlyForTheHostsOwnNics()
    {
        var (a, b, unbound) = (_instances[0], _instances[1], _instances[2]);
        // b is bound to node-2, the third NIC to no host: node-1 cannot speak for them.
        await Report("node-1", a, [Flow(b, "198.18.0.7", 22, "2026-12-01T10:15Z", 2), Flow(unbound, "198.18.0.7", 22, "2026-12-01T10:15Z", 2), Flow(a, "198.18.0.9", 8080, "2026-12-01T10:15Z", 1)],
            [new { InstanceId = b, Connections = 100 }]);
        var (flows, listed) = await Flows();
        Assert.Equal([$"{a} 198.18.0.9 TCP 8080 1 2026-12-01T10:15:00Z 2026-12-01T10:15:00Z"], listed);
        Assert.Equal(0, flows.GetProperty("DroppedConnections").GetInt64());
    }

    [Fact]
    public async Task AHostSwitchedOff_IsToldNotToSample_AndKeepsNothing_UntilSwitchedOnAgain()
    {
        var a = _instances[0];
        _plane.Hosts.SetFlowSampling("node-1", on: false);
        Assert.False(_plane.Hosts.SamplesFlows("node-1"));
        var answer = await Report("node-1", a, [Flow(a, "198.18.0.7", 22, "2026-12-01T10:15Z", 2)]);
        Assert.False(answer.GetProperty("FlowSampling").GetBoolean());
        var (flows, listed) = await Flows();
        Assert.Empty(listed);
        Assert.Equal(0, flows.GetProperty("HostsSampling").GetInt32());
        Assert.Empty(_plane.Store.Read(s => s.ListFlowHosts(_accountId)));

        _plane.Hosts.SetFlowSampling("node-1", on: true);
        Assert.True((await Report("node-1", a, [Flow(a, "198.18.0.7", 22, "2026-12-01T10:15Z", 2)])).GetProperty("FlowSampling").GetBoolean());
        Assert.Single((await Flows()).Flows);
        var undeclared = Assert.Throws<Palisade.Domain.Errors.EcsException>(() => _plane.Hosts.SetFlowSampling("node-9", on: false));
        Assert.Equal(404, undeclared.Error.HttpStatus);
    }

    [Theory]
    [InlineData("SourceIp", "198.18.0.300", "Flow.1.SourceIp")]
    [InlineData("SourceIp", "2001:DB8::1", "Flow.1.SourceIp")]
    [InlineData("IpProtocol", "ALL", "Flow.1.IpProtocol")]
    [InlineData("Port", "0", "Flow.1.Port")]
    [InlineData("Port", "65536", "Flow.1.Port")]
    [InlineData("Minute", "2026-12-01T10:15:00Z", "Flow.1.Minute")]
    [InlineData("Connections", "-1", "Flow.1.Connections")]
    public async Task ABadFlow_IsRefusedWithItsField_AndNothingIsKept(string field, string value, string named)
    {
        var a = _instances[0];
        var p = new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["HostName"] = "node-1", ["AppliedRevision"] = "1", ["FlowsReported"] = "true",
            ["Flow.1.InstanceId"] = a, ["Flow.1.SourceIp"] = "198.18.0.7", ["Flow.1.IpProtocol"] = "TCP", ["Flow.1.Port"] = "22",
            ["Flow.1.Minute"] = "2026-12-01T10:15Z", ["Flow.1.Connections"] = "1",
        };
        p[$"Flow.1.{field}"] = value;
        var error = await ApiAssert.FailsAsync(() => _plane.HostClient("node-1", clock: _clock).CallAsync("ReportAgentStatus", p), "InvalidParameter", 400);
        Assert.Contains(named, error.EcsMessage, StringComparison.Ordinal);
        Assert.Empty((await Flows()).Flows);
    }

    [Fact]
    public async Task TooManyFlowsInOneReport_AreRefused_AndTheWindowIsBounded()
    {
        var a = _instances[0];
        var flows = Enumerable.Range(1, 51).Select(i => Flow(a, $"198.18.1.{i}", 22, "2026-12-01T10:15Z", 1)).ToArray();
        await ApiAssert.FailsAsync(() => Report("node-1", a, flows), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = _group, Days = 4 }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = "sg-bp1doesnotexist000000" }), "InvalidSecurityGroupId.NotFound", 404);
        Assert.Equal(3, (await Flows(3)).Answer.GetProperty("Days").GetInt32());
    }
}
