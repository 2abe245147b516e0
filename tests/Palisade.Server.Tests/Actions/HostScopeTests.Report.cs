using System.Globalization;
using System.Text.Json.Nodes;
using Palisade.Agent.Following;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The status report carried by the host's poll (issue 17, nineteenth session): a host's
/// <c>DescribeChanges</c> with <c>CarriesStatusReport=true</c> and <c>ReportAgentStatus</c>'s parameters
/// is refused at its arrival exactly as the report would be, and what it stores is what the report stores.
/// </summary>
public sealed partial class HostScopeTests
{
    /// <summary>
    /// Bad report parameters on a poll are refused at its arrival with the error <c>ReportAgentStatus</c> gives
    /// them (code and message: the report's own code reads them): nothing parks, nothing is stored, no
    /// revision is made; an account's key may not carry a report.
    /// </summary>
    [Fact]
    public async Task APollCarryingAReport_HasItsParametersChecked_AtItsArrival_AsTheReportWould()
    {
        var key = _server.NewAccount("carried-edge");
        var tenant = new Scenario(_server.Client(key));
        var vpc = await tenant.VpcAsync();
        var group = await tenant.GroupAsync(vpc);
        var instance = (await tenant.RunAsync(group, await tenant.VSwitchAsync(vpc)))[0];
        _server.Bind(instance, "node-1", "vnet0");
        var host = _server.HostClient("node-1");
        var revision = _server.Store.CurrentRevision();
        var reports = _server.Store.Read(s => s.ListAgentReports(key.AccountId, null).Count);
        var bad = new (string Key, string Value)[][]
        {
            [],
            [("AppliedRevision", "-1")],
            [("AppliedRevision", "twelve")],
            [("AppliedRevision", "1"), ("InstanceId.1", "not-an-instance")],
            [("AppliedRevision", "1"), ("NetworkInterfaceId.1", "i-bp1aaaaaaaaaaaaaaaaa")],
            [("AppliedRevision", "1"), ("UsageReported", "maybe")],
            [("AppliedRevision", "1"), ("RuleUsage.1.InstanceId", instance), ("RuleUsage.1.Direction", "sideways"), ("RuleUsage.1.SecurityGroupRuleId", "sgr-bp1aaaaaaaaaaaaaaaaa"), ("RuleUsage.1.Packets", "1"), ("RuleUsage.1.Bytes", "1")],
            [("AppliedRevision", "1"), ("RuleUsage.1.InstanceId", instance), ("RuleUsage.1.Direction", "ingress"), ("RuleUsage.1.SecurityGroupRuleId", "sgr-bp1aaaaaaaaaaaaaaaaa"), ("RuleUsage.1.Packets", "-3"), ("RuleUsage.1.Bytes", "1")],
            [("AppliedRevision", "1"), ("FlowsReported", "true"), ("Flow.1.InstanceId", instance), ("Flow.1.SourceIp", "300.1.2.3"), ("Flow.1.IpProtocol", "TCP"), ("Flow.1.Port", "22"), ("Flow.1.Minute", "2026-12-01T10:00Z"), ("Flow.1.Connections", "1")],
        };
        foreach (var parameters in bad)
        {
            var report = new Dictionary<string, string> { ["RegionId"] = Region };
            foreach (var (k, v) in parameters)
                report[k] = v;
            var apart = await Assert.ThrowsAsync<EcsApiException>(() => host.CallAsync("ReportAgentStatus", report));
            var poll = new Dictionary<string, string>(report) { ["AfterRevision"] = revision.ToString(CultureInfo.InvariantCulture), ["WaitSeconds"] = "60", ["CarriesStatusReport"] = "true" };
            var carried = await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", poll), apart.Code, apart.Status);
            Assert.Equal(apart.EcsMessage, carried.EcsMessage);
        }
        await ApiAssert.FailsAsync(() => _server.Client(key).CallAsync("DescribeChanges", new { AfterRevision = "0", WaitSeconds = "0", CarriesStatusReport = "true", AppliedRevision = "1" }), "Forbidden.HostCredentialRequired", 403);
        // On the trail as ReportAgentStatus's refusal is, in the caller's own account (twentieth session).
        Assert.Equal(["ReportAgentStatus 403 Forbidden.HostCredentialRequired"], _server.Store.Read(s => s.ListTrail(new Storage.Records.ActionTrailQuery(key.AccountId, Action: "ReportAgentStatus", Max: 10)))
            .Select(t => $"{t.Entry.Action} {t.Entry.HttpStatus} {t.Entry.ResultCode}"));
        Assert.Equal(0, _server.Store.Commits.ParkedCount);
        Assert.Equal(revision, _server.Store.CurrentRevision());
        Assert.Equal(reports, _server.Store.Read(s => s.ListAgentReports(key.AccountId, null).Count));
        // Without the flag the report's parameters are ignored (ECS ignores unknown parameters), as before.
        var plain = await host.CallAsync("DescribeChanges", new { AfterRevision = revision.ToString(CultureInfo.InvariantCulture), WaitSeconds = "0", AppliedRevision = "twelve" });
        Assert.False(plain.TryGetProperty("StatusReported", out _));
    }

    /// <summary>
    /// The agent's control plane (<see cref="EcsControlPlane.WaitForPolicyAsync(string, long, TimeSpan, StatusReport?, CancellationToken)"/>)
    /// carrying reports of random revisions and NICs (bound, unbound, the host's and not), each followed by
    /// the same report sent apart by its twin (<c>ReportWithPoll=false</c>) for the same host: after each,
    /// the tenant's <c>DescribeHostInterfaces</c> and the operator's metrics count of NICs in sync are the
    /// same, but for the time of the report.
    /// </summary>
    [Fact]
    public async Task AReportCarriedByTheAgentsPoll_ShowsWhatTheReportApartShows()
    {
        var key = _server.NewAccount("carried-show");
        var api = _server.Client(key);
        var tenant = new Scenario(api);
        var vpc = await tenant.VpcAsync();
        var group = await tenant.GroupAsync(vpc);
        var instances = await tenant.RunAsync(group, await tenant.VSwitchAsync(vpc), amount: 4);
        for (var i = 0; i < 3; i++)
            _server.Bind(instances[i], i < 2 ? "node-1" : "node-2", $"vnet{i}");
        var credential = _server.Hosts.CreateCredential("node-1");
        var client = new EcsClient(_server.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        var carrying = new EcsControlPlane(client, Region);
        var apart = new EcsControlPlane(client, Region) { ReportWithPoll = false };
        var enis = _server.Hosts.ListBindings(null).Where(b => b.AccountId == key.AccountId).ToDictionary(b => b.InstanceId.Value, b => b.NetworkInterfaceId);
        var random = new Random(19);
        async Task<string> Shown()
        {
            var answer = JsonNode.Parse((await api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).GetRawText())!;
            foreach (var item in answer["HostInterfaces"]!["HostInterface"]!.AsArray())
                item!.AsObject().Remove("ReportedAt");
            answer.AsObject().Remove("RequestId");
            return answer.ToJsonString() + " in sync " + _server.Store.Read(s => s.CountNicsInSync());
        }
        for (var round = 0; round < 12; round++)
        {
            if (random.Next(3) == 0)
                await tenant.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = $"{round + 1}/{round + 1}", SourceCidrIp = "10.0.0.0/8" });
            var current = _server.Store.CurrentRevision();
            var nics = instances.Where(_ => random.Next(2) == 0)
                .Select(i => new NicRef(InstanceId.Parse(i), random.Next(3) == 0 ? null : enis.GetValueOrDefault(i), Secondary: false)).ToList();
            var report = new StatusReport(current - random.Next(3), nics, [], random.Next(2) == 0 ? FlowReport.Empty : null);
            var wake = await carrying.WaitForPolicyAsync("node-1", current, TimeSpan.Zero, report, CancellationToken.None);
            Assert.NotNull(wake.Reported);
            var carried = await Shown();
            var sampling = await apart.ReportAsync("node-1", report.AppliedRevision, report.Nics, report.Usage, report.Flows, CancellationToken.None);
            Assert.Equal(sampling, wake.Reported);
            Assert.Equal(await Shown(), carried);
            // The twin carries nothing, even when asked.
            Assert.Null((await apart.WaitForPolicyAsync("node-1", current, TimeSpan.Zero, report, CancellationToken.None)).Reported);
        }
        Assert.Equal((12L, 0L), (carrying.CarriedReports.Stored, carrying.CarriedReports.NotTaken));
        Assert.Equal((0L, 0L, 0L), apart.CarriedReports);
    }
}
