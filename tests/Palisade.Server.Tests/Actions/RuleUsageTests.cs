using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Rule hit counts (issue 20 item 4): what agents report with their status is kept per rule, host
/// and hour, summed and shown by <c>DescribeSecurityGroupRuleUsage</c>, purged past the retention;
/// a report speaks only for the account's NICs bound to that host and their groups' rules. The
/// server's clock is the test's, so buckets and times are exact.
/// </summary>
public sealed class RuleUsageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 15, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private TestControlPlane _plane = null!;
    private EcsClient _api = null!;
    private Dictionary<string, EcsClient> _agents = null!;
    private string _group = "";
    private List<string> _instances = [];
    private string _ssh = "";
    private string _web = "";
    private long _accountId;

    public async Task InitializeAsync()
    {
        _plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions { RuleUsage = new RuleUsageOptions { Retention = TimeSpan.FromDays(3), MaxReportGap = TimeSpan.FromHours(1) } });
        var key = _plane.NewAccount("usage");
        _accountId = key.AccountId;
        _api = _plane.Client(key, SignatureStyle.V3, _clock);
        var scenario = new Scenario(_api);
        var vpc = await scenario.VpcAsync();
        _group = await scenario.GroupAsync(vpc);
        _instances = await scenario.RunAsync(_group, await scenario.VSwitchAsync(vpc), amount: 3);
        await scenario.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        await scenario.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        var rules = await scenario.RulesAsync(_group);
        _ssh = rules.Single(r => r.Str("PortRange") == "22/22").Str("SecurityGroupRuleId");
        _web = rules.Single(r => r.Str("PortRange") == "80/80").Str("SecurityGroupRuleId");
        // Binding is the operator's act, and each host's agent reports with its host credential (issue 18).
        _plane.Bind(_instances[0], "node-1", "vnet0");
        _plane.Bind(_instances[1], "node-2", "vnet0");
        _agents = new() { ["node-1"] = _plane.HostClient("node-1", clock: _clock), ["node-2"] = _plane.HostClient("node-2", clock: _clock) };
    }

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private Task Report(string host, string instance, params (string Rule, long Packets, long Bytes)[] usage) =>
        Report(host, instance, usage.Select(u => (instance, u.Rule, u.Packets.ToString(CultureInfo.InvariantCulture), u.Bytes.ToString(CultureInfo.InvariantCulture))).ToArray());

    private async Task Report(string host, string instance, (string Nic, string Rule, string Packets, string Bytes)[] usage)
    {
        var p = new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["HostName"] = host, ["AppliedRevision"] = "1", ["InstanceId.1"] = instance, ["UsageReported"] = "true",
        };
        for (var i = 0; i < usage.Length; i++)
        {
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            p[$"RuleUsage.{n}.InstanceId"] = usage[i].Nic;
            p[$"RuleUsage.{n}.Direction"] = "ingress";
            p[$"RuleUsage.{n}.SecurityGroupRuleId"] = usage[i].Rule;
            p[$"RuleUsage.{n}.Packets"] = usage[i].Packets;
            p[$"RuleUsage.{n}.Bytes"] = usage[i].Bytes;
        }
        await (_agents.TryGetValue(host, out var agent) ? agent : _agents[host] = _plane.HostClient(host, clock: _clock)).CallAsync("ReportAgentStatus", p);
    }

    private async Task<(JsonElement Answer, Dictionary<string, JsonElement> Rules)> Usage(int? days = null)
    {
        var answer = await _api.CallAsync("DescribeSecurityGroupRuleUsage", new { RegionId = Region, SecurityGroupId = _group, Days = days });
        return (answer, answer.Items("RuleUsages", "RuleUsage").ToDictionary(r => r.Str("SecurityGroupRuleId")));
    }

    /// <summary>An agent run with <c>--no-rule-counters</c> never says it counts: its host vouches for no rule's silence.</summary>
    [Fact]
    public async Task AnAgentWithoutRuleCounters_IsNeverCountedAsWatching()
    {
        var nic = new Agent.Rendering.NicRef(Domain.Identifiers.InstanceId.Parse(_instances[0]), null, Secondary: false);
        await new Agent.Following.EcsControlPlane(_agents["node-1"], Region) { CountsRules = false }.ReportAsync("node-1", 1, [nic], [], CancellationToken.None);
        var (answer, _) = await Usage();
        Assert.Equal(0, answer.GetProperty("HostsCounting").GetInt32());
        await new Agent.Following.EcsControlPlane(_agents["node-1"], Region).ReportAsync("node-1", 1, [nic], [], CancellationToken.None);
        (answer, _) = await Usage();
        Assert.Equal(1, answer.GetProperty("HostsCounting").GetInt32());
    }

    [Fact]
    public async Task Hits_AreSummedPerRuleAndBucket_WithTheLastHitAndTheHostsThatSawThem_AndWhoCounts()
    {
        var revision = _plane.Store.Read(s => s.LatestRevision(_accountId));
        await Report("node-1", _instances[0], (_ssh, 5, 300));
        var (answer, rules) = await Usage();
        Assert.Equal(3600, answer.GetProperty("BucketSeconds").GetInt64());
        Assert.Equal(3, answer.GetProperty("Days").GetInt32()); // the default week, cut to the retention (3 days here)
        Assert.Equal(1, answer.GetProperty("HostsCounting").GetInt32());
        Assert.Equal("", answer.Str("CountingSince")); // node-2 carries a member and does not count yet
        Assert.Equal(5, rules[_ssh].GetProperty("Packets").GetInt64());
        Assert.Equal(300, rules[_ssh].GetProperty("Bytes").GetInt64());
        Assert.Equal("2026-12-01T10:15:00Z", rules[_ssh].Str("LastHitTime"));
        Assert.Equal(1, rules[_ssh].GetProperty("HostsWithHits").GetInt32());
        Assert.Equal(["2026-12-01T10:00:00Z"], rules[_ssh].Items("Buckets", "Bucket").Select(b => b.Str("StartTime")));
        Assert.Equal(0, rules[_web].GetProperty("Packets").GetInt64());
        Assert.Equal("", rules[_web].Str("LastHitTime"));
        Assert.Empty(rules[_web].Items("Buckets", "Bucket"));
        // Reporting is bookkeeping: no revision, nothing wakes the feed.
        Assert.Equal(revision, _plane.Store.Read(s => s.LatestRevision(_accountId)));

        _clock.Advance(TimeSpan.FromMinutes(10));
        await Report("node-2", _instances[1]);
        (answer, _) = await Usage();
        Assert.Equal(2, answer.GetProperty("HostsCounting").GetInt32());
        Assert.Equal("2026-12-01T10:25:00Z", answer.Str("CountingSince"));

        _clock.Advance(TimeSpan.FromHours(2));
        await Report("node-2", _instances[1], (_ssh, 3, 180), (_web, 1, 60));
        (answer, rules) = await Usage();
        Assert.Equal(8, rules[_ssh].GetProperty("Packets").GetInt64());
        Assert.Equal(2, rules[_ssh].GetProperty("HostsWithHits").GetInt32());
        Assert.Equal(["2026-12-01T10:00:00Z 5", "2026-12-01T12:00:00Z 3"],
            rules[_ssh].Items("Buckets", "Bucket").Select(b => $"{b.Str("StartTime")} {b.GetProperty("Packets").GetInt64()}"));
        Assert.Equal("2026-12-01T12:25:00Z", rules[_web].Str("LastHitTime"));
        // node-1 has been silent for more than the allowed gap: it no longer counts, so nobody vouches for the whole group.
        Assert.Equal(1, answer.GetProperty("HostsCounting").GetInt32());
        Assert.Equal("", answer.Str("CountingSince"));
    }

    [Fact]
    public async Task UnusedRule_IsFound_OnlyOnceEveryHostOfTheGroupCountedTheWholeWindow_AndNotForARuleWithHits()
    {
        async Task<List<JsonElement>> Unused() =>
            [.. (await _api.CallAsync("AuditSecurityGroups", new { RegionId = Region, UnusedDays = 1 })).Items("Findings", "Finding").Where(f => f.Str("Check") == "unused-rule")];
        // The rules were made at Start: nothing can be unused for a day before a day has passed.
        for (var step = 0; step < 31; step++)
        {
            await Report("node-1", _instances[0], (_ssh, 1, 60));
            await Report("node-2", _instances[1]);
            if (step == 10)
                Assert.Empty(await Unused());
            _clock.Advance(TimeSpan.FromMinutes(50));
        }
        var finding = Assert.Single(await Unused());
        Assert.Equal((_group, _web, "LOW"), (finding.Str("SecurityGroupId"), finding.Str("SecurityGroupRuleId"), finding.Str("Severity").ToUpperInvariant()));
        Assert.Equal("2026-12-01T10:15:00Z", finding.GetProperty("Evidence").Str("CountingSince"));
        Assert.Equal(0, (await _api.CallAsync("AuditSecurityGroups", new { RegionId = Region, UnusedDays = 0 })).Items("Findings", "Finding").Count(f => f.Str("Check") == "unused-rule"));

        // One host stops counting: nobody vouches for the whole group any more, so no finding.
        for (var step = 0; step < 2; step++)
        {
            _clock.Advance(TimeSpan.FromMinutes(50));
            await Report("node-1", _instances[0], (_ssh, 1, 60));
        }
        Assert.Empty(await Unused());
    }

    [Fact]
    public async Task AReport_SpeaksOnlyForTheHostsOwnNics_AndTheirGroupsRules()
    {
        var otherGroup = await new Scenario(_api).GroupAsync(null, "elsewhere");
        await new Scenario(_api).AuthorizeAsync(otherGroup, new { IpProtocol = "TCP", PortRange = "443/443", SourceCidrIp = "10.0.0.0/8" });
        var foreignRule = (await new Scenario(_api).RulesAsync(otherGroup)).Single().Str("SecurityGroupRuleId");
        // instances[1] is bound to node-2, instances[2] to no host; the other group's rule is no rule of these NICs.
        await Report("node-1", _instances[0], [(_instances[1], _ssh, "4", "1"), (_instances[2], _ssh, "4", "1"), (_instances[0], foreignRule, "4", "1"), (_instances[0], _web, "2", "120")]);
        var (_, rules) = await Usage();
        Assert.Equal(0, rules[_ssh].GetProperty("Packets").GetInt64());
        Assert.Equal(2, rules[_web].GetProperty("Packets").GetInt64());
        Assert.Empty(_plane.Store.Read(s => s.ListRuleUsage(_accountId, [foreignRule], Start.AddDays(-1))));
    }

    [Fact]
    public async Task Buckets_PastTheRetention_AreDeleted_AndDaysIsBoundedByIt()
    {
        await Report("node-1", _instances[0], (_ssh, 5, 300));
        _clock.Advance(TimeSpan.FromDays(3) + TimeSpan.FromHours(1));
        await Report("node-1", _instances[0], (_web, 1, 60));
        Assert.Single(_plane.Store.Read(s => s.ListRuleUsage(_accountId, [_ssh, _web], Start.AddDays(-10))));
        var (_, rules) = await Usage(3);
        Assert.Equal(0, rules[_ssh].GetProperty("Packets").GetInt64());
        Assert.Equal(1, rules[_web].GetProperty("Packets").GetInt64());
        await ApiAssert.FailsAsync(() => Usage(4), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Usage(0), "InvalidParameter", 400);
    }

    [Fact]
    public async Task BadUsage_IsRefusedWithTheCataloguedCode_AndNothingOfTheReportIsKept()
    {
        await ApiAssert.FailsAsync(() => Report("node-1", _instances[0], [(_instances[0], _ssh, "-1", "0")]), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Report("node-1", _instances[0], [(_instances[0], _ssh, "99999999999999999999", "0")]), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Report("node-1", _instances[0], [(_instances[0], "not a rule", "1", "0")]), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => Report("node-1", _instances[0], [(_instances[0], _ssh, "", "0")]), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => Report("node-1", _instances[0], [(_instances[0], _ssh, "1", "0"), ("i-notaninstance!", _ssh, "1", "0")]), "InvalidInstanceId.Malformed", 400);
        Assert.Empty(_plane.Store.Read(s => s.ListRuleUsage(_accountId, [_ssh, _web], Start.AddDays(-1))));
        Assert.Empty(_plane.Store.Read(s => s.ListUsageHosts(_accountId)));
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleUsage", new { RegionId = Region, SecurityGroupId = "sg-doesnotexist000" }), "InvalidSecurityGroupId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _api.CallAsync("DescribeSecurityGroupRuleUsage", new { RegionId = Region }), "MissingParameter", 400);
    }
}
