using System.Globalization;
using CsCheck;
using Palisade.Client;
using Palisade.Server.Actions.Hosts;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Agents' status reports written in the node's batches (<see cref="StatusReportBatch"/>, issue 17)
/// against their slow twin, one write per report (<see cref="ServerOptions.StatusReportInterval"/>
/// zero): two servers with the same tenants, hosts and bindings get the same random rounds of reports
/// — each host at most one report a round, as an agent sends them, a round's reports at once to the
/// batching server and one after the other to the twin — and after every round the stored reports
/// (each host's NICs and the account revision each is in sync with), the hosts counting rule hits,
/// the trail and every answer are the same. A round may first revoke a host's credential (the same on
/// both): its report must be refused alike (the batch falls back to one write a report, and the others
/// are stored), and the host gets a new credential for the next round. The batch writes its reports'
/// rows, usage marks and purges once (<see cref="StatusReportWrites"/>), the twin a report at a time.
/// On SQLite, and on PostgreSQL when the run asks for it.
/// </summary>
public sealed class StatusReportBatchTests
{
    private const int Instances = 6;
    private static readonly string[] Hosts = ["node-1", "node-2", "node-3"];

    /// <summary>One server's fleet: its tenant's instances (by index), the host clients, the tenant's account.</summary>
    private sealed record Fleet(TestControlPlane Plane, long AccountId, List<string> Instances, EcsClient[] HostClients, string[] KeyIds);

    /// <summary>A new credential for host <paramref name="host"/>, and its client signing with it.</summary>
    private static void NewCredential(Fleet fleet, int host)
    {
        var credential = fleet.Plane.Hosts.CreateCredential(Hosts[host]);
        fleet.HostClients[host] = new EcsClient(fleet.Plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        fleet.KeyIds[host] = credential.AccessKeyId;
    }

    private static async Task<Fleet> FleetAsync(TestControlPlane plane)
    {
        var key = plane.NewAccount("reports");
        var tenant = new Scenario(plane.Client(key));
        var vpc = await tenant.VpcAsync();
        var group = await tenant.GroupAsync(vpc);
        var vsw = await tenant.VSwitchAsync(vpc);
        var instances = await tenant.RunAsync(group, vsw, amount: Instances);
        // Two NICs on node-1, two on node-2, one on node-3 (which samples no flows), one unbound.
        int[] hostOf = [0, 0, 1, 1, 2, -1];
        for (var i = 0; i < Instances; i++)
        {
            if (hostOf[i] >= 0)
                plane.Bind(instances[i], Hosts[hostOf[i]], $"vnet{i}");
        }
        plane.Hosts.SetFlowSampling(Hosts[2], false);
        // A few more of the tenant's revisions, so that the revisions reported fall between them.
        for (var port = 1; port <= 3; port++)
            await tenant.AuthorizeAsync(group, new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" });
        var fleet = new Fleet(plane, key.AccountId, instances, new EcsClient[Hosts.Length], new string[Hosts.Length]);
        for (var h = 0; h < Hosts.Length; h++)
            NewCredential(fleet, h);
        return fleet;
    }

    /// <summary>One report: its host, which revision (by kind), which instances it names, what it says it counts and samples, and whether its credential is revoked first.</summary>
    private sealed record Sent(int Host, int RevisionKind, int InstanceMask, bool UsageReported, bool FlowsReported, bool Revoked = false);

    /// <summary>Revokes the credential the host's client signs with (a report with it is then refused).</summary>
    private static void Revoke(Fleet fleet, int host) => fleet.Plane.Hosts.RevokeCredential(fleet.KeyIds[host]);

    private static long RevisionOf(Fleet fleet, int kind)
    {
        var current = fleet.Plane.Store.CurrentRevision();
        return kind switch
        {
            0 => 0,
            1 => Math.Max(0, current - 3),
            2 => current,
            _ => current + 10,
        };
    }

    /// <summary>The answer as text: whether the host samples flows, or the refusal's code.</summary>
    private static async Task<string> Send(Fleet fleet, Sent r)
    {
        try
        {
            return "FlowSampling " + (await Call(fleet, r)).GetProperty("FlowSampling").GetBoolean();
        }
        catch (EcsApiException e)
        {
            return "refused " + e.Code;
        }
    }

    /// <summary>
    /// The same report carried by the host's poll (<c>DescribeChanges</c> with <c>CarriesStatusReport=true</c>,
    /// nineteenth session), answering at once: its answer's <c>FlowSampling</c>, or the refusal's code.
    /// </summary>
    private static async Task<string> SendWithPoll(Fleet fleet, Sent r)
    {
        try
        {
            var answer = await Call(fleet, r, carried: true);
            Assert.True(answer.GetProperty("StatusReported").GetBoolean());
            return "FlowSampling " + answer.GetProperty("FlowSampling").GetBoolean();
        }
        catch (EcsApiException e)
        {
            return "refused " + e.Code;
        }
    }

    private static Task<System.Text.Json.JsonElement> Call(Fleet fleet, Sent r, bool carried = false)
    {
        var p = new Dictionary<string, string>
        {
            ["RegionId"] = Region,
            ["AppliedRevision"] = RevisionOf(fleet, r.RevisionKind).ToString(CultureInfo.InvariantCulture),
        };
        var n = 0;
        for (var i = 0; i < Instances; i++)
        {
            if ((r.InstanceMask & (1 << i)) != 0)
                p[$"InstanceId.{++n}"] = fleet.Instances[i];
        }
        if (r.UsageReported)
            p["UsageReported"] = "true";
        if (r.FlowsReported)
            p["FlowsReported"] = "true";
        if (!carried)
            return fleet.HostClients[r.Host].CallAsync("ReportAgentStatus", p);
        p["CarriesStatusReport"] = "true";
        p["AfterRevision"] = fleet.Plane.Store.CurrentRevision().ToString(CultureInfo.InvariantCulture);
        p["WaitSeconds"] = "0";
        return fleet.HostClients[r.Host].CallAsync("DescribeChanges", p);
    }

    /// <summary>What is stored, by instance index (IDs differ between the two servers), without times.</summary>
    private static List<string> Stored(Fleet fleet) =>
        fleet.Plane.Store.Read<List<string>>(s =>
        [
            .. s.ListAgentReports(fleet.AccountId, null)
                .Select(r => $"report {r.HostName} #{fleet.Instances.IndexOf(r.InstanceId.Value)} {(r.NetworkInterfaceId is null ? "classic" : "eni")} at {r.AppliedRevision}")
                .Order(StringComparer.Ordinal),
            .. s.ListUsageHosts(fleet.AccountId).Select(u => $"counting {u.HostName}").Order(StringComparer.Ordinal),
            // A host credential's calls are on the trail of no account (0), where the operator reads them.
            .. new[] { fleet.AccountId, 0 }.SelectMany(account => s.ListTrail(new Storage.Records.ActionTrailQuery(account, Action: "ReportAgentStatus", Max: 10_000)))
                .GroupBy(t => $"trail {t.Entry.AccountId} {t.Entry.Action} {t.Entry.HttpStatus} {t.Entry.ResultCode} {Numbered(fleet, t.Entry.Parameters)}").Select(g => $"{g.Key} x{g.Count()}").Order(StringComparer.Ordinal),
        ]);

    /// <summary>A trail event's parameters with each instance ID by its index (the two servers' IDs differ).</summary>
    private static string Numbered(Fleet fleet, string parameters) =>
        fleet.Instances.Select((id, i) => (id, i)).Aggregate(parameters, (text, x) => text.Replace(x.id, $"#{x.i}", StringComparison.Ordinal));

    [Fact]
    public async Task ReportsInBatches_StoreWhatOneWriteAReportStores()
    {
        await using var batched = await TestControlPlane.StartAsync(options: new ServerOptions { StatusReportInterval = TimeSpan.FromMilliseconds(100) });
        await using var alone = await TestControlPlane.StartAsync(options: new ServerOptions { StatusReportInterval = TimeSpan.Zero });
        var fast = await FleetAsync(batched);
        var slow = await FleetAsync(alone);
        var sent = 0;
        var report = Gen.Select(Gen.Bool, Gen.Int[0, 3], Gen.Int[0, (1 << Instances) - 1], Gen.Bool, Gen.Bool, Gen.Int[0, 5]);
        // A round: each host reports or not; one in six with its credential revoked first.
        var round = report.Array[Hosts.Length].Select(r => r.Select((x, h) => x.Item1 ? new Sent(h, x.Item2, x.Item3, x.Item4, x.Item5, x.Item6 == 0) : null).OfType<Sent>().ToArray());
        await round.Array[1, 4].SampleAsync(async rounds =>
        {
            foreach (var reports in rounds)
            {
                foreach (var r in reports.Where(r => r.Revoked))
                {
                    Revoke(fast, r.Host);
                    Revoke(slow, r.Host);
                }
                // At once to the batching server (they share its next batch), one by one to the twin.
                var fastAnswers = await Task.WhenAll(reports.Select(r => Send(fast, r)));
                var slowAnswers = new List<string>();
                foreach (var r in reports)
                    slowAnswers.Add(await Send(slow, r));
                sent += reports.Length;
                Assert.Equal(slowAnswers, fastAnswers);
                Assert.Equal(reports.Select(r => r.Revoked), fastAnswers.Select(a => a.StartsWith("refused", StringComparison.Ordinal)));
                Assert.Equal(Stored(slow), Stored(fast));
                // The revoked hosts' agents get new credentials, as an operator would give them.
                foreach (var r in reports.Where(r => r.Revoked))
                {
                    NewCredential(fast, r.Host);
                    NewCredential(slow, r.Host);
                }
            }
        }, iter: 40, threads: 1, print: rounds => string.Join(" | ", rounds.Select(r => string.Join(", ", r))));
        // The batches did batch: fewer writes than reports (the twin wrote none of its own).
        var writes = StatusReportBatch.Of(batched.Store).Writes;
        Assert.InRange(writes, 1, sent - 1);
        Assert.Equal(0, StatusReportBatch.Of(alone.Store).Writes);
    }
    /// <summary>
    /// Reports carried by the hosts' polls (nineteenth session) against the slow twin of the reports apart,
    /// one write a report: the same random rounds (a round's polls at once, sharing the node's next batch),
    /// the same answers (<c>FlowSampling</c>, or the same refusal for a revoked credential), and after every
    /// round the same stored reports, hosts counting rule hits and trail events (<c>ReportAgentStatus</c>'s,
    /// whichever request carried the report).
    /// </summary>
    [Fact]
    public async Task ReportsCarriedByPolls_StoreWhatTheReportsApartStore()
    {
        await using var batched = await TestControlPlane.StartAsync(options: new ServerOptions { StatusReportInterval = TimeSpan.FromMilliseconds(100) });
        await using var alone = await TestControlPlane.StartAsync(options: new ServerOptions { StatusReportInterval = TimeSpan.Zero });
        var carried = await FleetAsync(batched);
        var apart = await FleetAsync(alone);
        var sent = 0;
        var report = Gen.Select(Gen.Bool, Gen.Int[0, 3], Gen.Int[0, (1 << Instances) - 1], Gen.Bool, Gen.Bool, Gen.Int[0, 5]);
        var round = report.Array[Hosts.Length].Select(r => r.Select((x, h) => x.Item1 ? new Sent(h, x.Item2, x.Item3, x.Item4, x.Item5, x.Item6 == 0) : null).OfType<Sent>().ToArray());
        await round.Array[1, 4].SampleAsync(async rounds =>
        {
            foreach (var reports in rounds)
            {
                foreach (var r in reports.Where(r => r.Revoked))
                {
                    Revoke(carried, r.Host);
                    Revoke(apart, r.Host);
                }
                var carriedAnswers = await Task.WhenAll(reports.Select(r => SendWithPoll(carried, r)));
                var apartAnswers = new List<string>();
                foreach (var r in reports)
                    apartAnswers.Add(await Send(apart, r));
                sent += reports.Length;
                Assert.Equal(apartAnswers, carriedAnswers);
                Assert.Equal(reports.Select(r => r.Revoked), carriedAnswers.Select(a => a.StartsWith("refused", StringComparison.Ordinal)));
                Assert.Equal(Stored(apart), Stored(carried));
                foreach (var r in reports.Where(r => r.Revoked))
                {
                    NewCredential(carried, r.Host);
                    NewCredential(apart, r.Host);
                }
            }
        }, iter: 25, threads: 1, print: rounds => string.Join(" | ", rounds.Select(r => string.Join(", ", r))));
        // The polls' reports went through the node's batches.
        Assert.InRange(StatusReportBatch.Of(batched.Store).Writes, 1, sent);
    }

    /// <summary>
    /// A whole fleet reporting at once (its start, or back after an outage) is written in parts of at
    /// most <see cref="StatusReportBatch.MaxReportsPerWrite"/> reports, each answered once stored: 250
    /// hosts' reports, every one on the trail.
    /// </summary>
    [Fact]
    public async Task AFleetReportingAtOnce_IsWrittenInParts_AndEveryReportIsStored()
    {
        // An interval longer than the 250 requests take to arrive (a test's server batches every 20 ms).
        await using var plane = await TestControlPlane.StartAsync(options: new ServerOptions { StatusReportInterval = TimeSpan.FromSeconds(2) });
        var names = Enumerable.Range(0, 250).Select(i => $"rack-{i}").ToList();
        plane.Hosts.DeclareAll([.. names.Select(n => (n, Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0")))]);
        var credentials = plane.Hosts.CreateCredentials(names);
        var batch = StatusReportBatch.Of(plane.Store);
        // One report first: written at once, alone; the 250 after it wait for the next batch.
        await new EcsClient(plane.Http, new ClientCredentials(credentials[0].AccessKeyId, credentials[0].AccessKeySecret))
            .CallAsync("ReportAgentStatus", new { RegionId = Region, AppliedRevision = "0" });
        var before = batch.Writes;
        var answers = await Task.WhenAll(credentials.Select(c => new EcsClient(plane.Http, new ClientCredentials(c.AccessKeyId, c.AccessKeySecret))
            .CallAsync("ReportAgentStatus", new { RegionId = Region, AppliedRevision = "0" })));
        Assert.All(answers, a => Assert.True(a.GetProperty("FlowSampling").GetBoolean()));
        Assert.InRange(batch.Writes - before, 3, 10);
        var trailed = plane.Store.Read(s => s.ListTrail(new Storage.Records.ActionTrailQuery(0, Action: "ReportAgentStatus", Max: 1000)).Count);
        Assert.Equal(251, trailed);
    }
}
