using System.Globalization;
using Palisade.Client;
using Palisade.Server.Actions.Hosts;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The status report carried by a host's poll, answered without waiting for its write (issue 17, twentieth
/// session): a poll woken while its report's batch is held back (<see cref="StatusReportBatch.HoldWrites"/>,
/// no timed wait) answers with the change and <c>StatusReported=false</c>; the write lands afterwards, on the
/// trail once — as the report's event, or as its refusal's when the credential was revoked meanwhile; and an
/// older report written late on one node leaves the newer report another node stored. On SQLite, and on
/// PostgreSQL when the run asks for it.
/// </summary>
public sealed class CarriedReportWriteTests
{
    private sealed record Setup(TestControlPlane Node, Scenario Tenant, long AccountId, string Group, string Instance);

    private static async Task<Setup> SetupAsync(TestControlPlane node)
    {
        var key = node.NewAccount("late-report");
        var tenant = new Scenario(node.Client(key));
        var vpc = await tenant.VpcAsync();
        var group = await tenant.GroupAsync(vpc);
        var instance = (await tenant.RunAsync(group, await tenant.VSwitchAsync(vpc)))[0];
        node.Bind(instance, "node-1", "vnet0");
        return new Setup(node, tenant, key.AccountId, group, instance);
    }

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>A poll of node-1 from the current revision, carrying a report of <paramref name="applied"/> for the instance, parked.</summary>
    private static async Task<Task<System.Text.Json.JsonElement>> ParkAsync(TestControlPlane node, EcsClient host, string instance, long applied)
    {
        var parkedBefore = node.Store.Commits.ParkedCount;
        var poll = host.CallAsync("DescribeChanges", new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["AfterRevision"] = Text(node.Store.CurrentRevision()), ["WaitSeconds"] = "60",
            ["CarriesStatusReport"] = "true", ["AppliedRevision"] = Text(applied), ["InstanceId.1"] = instance,
        });
        await Until(() => node.Store.Commits.ParkedCount > parkedBefore || poll.IsCompleted);
        Assert.False(poll.IsCompleted, "the poll answered before a change");
        return poll;
    }

    /// <summary>Waits for <paramref name="done"/> (a write landing after its answer); the deadline only guards against a hang.</summary>
    private static async Task Until(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done() && DateTime.UtcNow < deadline)
            await Task.Delay(10);
    }

    /// <summary>The report's trail events: each as its action, status and code (host credentials' calls are on the trail of no account, 0).</summary>
    private static List<string> Trail(TestControlPlane node) =>
        node.Store.Read(s => s.ListTrail(new Storage.Records.ActionTrailQuery(0, Action: "ReportAgentStatus", Max: 100)))
            .Select(t => $"{t.Entry.Action} {t.Entry.HttpStatus} {t.Entry.ResultCode}").ToList();

    private static List<long> Stored(Setup t) =>
        t.Node.Store.Read(s => s.ListAgentReports(t.AccountId, "node-1")).Select(r => r.AppliedRevision).ToList();

    /// <summary>
    /// A poll of a credential of node-1 carrying its report, woken and answered while the report's write is held
    /// back; the credential revoked after the answer, before the write (which then refuses the report), and
    /// <paramref name="beforeTheWrite"/> done; then the write released.
    /// </summary>
    private static async Task AnsweredThenRevokedAsync(Setup t, Action? beforeTheWrite = null)
    {
        var node = t.Node;
        var credential = node.Hosts.CreateCredential("node-1");
        var host = new EcsClient(node.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        using (StatusReportBatch.Of(node.Store).HoldWrites())
        {
            var poll = await ParkAsync(node, host, t.Instance, node.Store.CurrentRevision());
            await t.Tenant.AuthorizeAsync(t.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
            Assert.False((await poll).GetProperty("StatusReported").GetBoolean());
            node.Hosts.RevokeCredential(credential.AccessKeyId);
            beforeTheWrite?.Invoke();
        }
    }

    [Fact]
    public async Task AWokenPoll_IsAnsweredBeforeItsReportsWrite_AndTheWriteLandsAfter_OnTheTrailOnce()
    {
        await using var node = await TestControlPlane.StartAsync();
        var t = await SetupAsync(node);
        var host = node.HostClient("node-1");
        var applied = node.Store.CurrentRevision();
        var accountRevision = node.Store.Read(s => s.LatestRevision(t.AccountId));
        System.Text.Json.JsonElement answer;
        using (StatusReportBatch.Of(node.Store).HoldWrites())
        {
            var poll = await ParkAsync(node, host, t.Instance, applied);
            await t.Tenant.AuthorizeAsync(t.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
            answer = await poll;
            // Woken and answered while the report's write is held back: not said stored, nothing written yet.
            Assert.False(answer.GetProperty("StatusReported").GetBoolean());
            Assert.False(answer.TryGetProperty("FlowSampling", out _));
            Assert.Empty(Stored(t));
            Assert.Empty(Trail(node));
        }
        Assert.Single(answer.GetProperty("Changes").GetProperty("Change").EnumerateArray());
        // Released: the report is written, as a ReportAgentStatus call is, and on the trail once.
        await Until(() => Trail(node).Count > 0 && Stored(t).Count > 0);
        Assert.Equal([accountRevision], Stored(t));
        Assert.Equal(["ReportAgentStatus 200 OK"], Trail(node));
    }

    [Fact]
    public async Task AReportRefusedAfterItsPollWasAnswered_IsOnTheTrailAsTheRefusal_AndNothingIsStored()
    {
        await using var node = await TestControlPlane.StartAsync();
        var t = await SetupAsync(node);
        await AnsweredThenRevokedAsync(t);
        await Until(() => Trail(node).Count > 0);
        Assert.Equal(["ReportAgentStatus 404 InvalidAccessKeyId.NotFound"], Trail(node));
        Assert.Empty(Stored(t));
    }

    [Fact]
    public async Task ATrailWriteThatFailsAfterThePollWasAnswered_IsLogged()
    {
        var logs = new CapturedLogs();
        TrailFailingStore? store = null;
        await using var node = await TestControlPlane.StartAsync(logs: logs, services: s => TrailFailingStore.Around(s, made => store = made));
        var t = await SetupAsync(node);
        // The refusal's own trail write fails (a cancellation, which the trail's write lets through) where no request awaits it.
        await AnsweredThenRevokedAsync(t, () => store!.Failure = () => new OperationCanceledException("the trail's write was cancelled\r\nforged line"));
        static bool Logged(string line) => line.Contains("its action-trail event could not be recorded", StringComparison.Ordinal);
        await Until(() => logs.Lines.Any(Logged));
        var logged = Assert.Single(logs.Lines, Logged);
        Assert.StartsWith("Warning Palisade.Server.Hosting.RpcEndpoint: Request ", logged, StringComparison.Ordinal);
        Assert.Contains("(DescribeChanges)", logged, StringComparison.Ordinal);
        // Escaped as every logged value is: the exception's text cannot start a line of its own.
        Assert.Contains(@"cancelled\u000d\u000aforged line", logged, StringComparison.Ordinal);
        Assert.DoesNotMatch("[\\r\\n]", logged.TrimEnd());
        Assert.Empty(Stored(t));
    }

    [Fact]
    public async Task AnOlderReportWrittenLateOnAnotherNode_LeavesTheNewerReport()
    {
        await using var first = await TestControlPlane.StartAsync();
        await using var second = await TestControlPlane.StartAsync(sameStoreAs: first);
        var t = await SetupAsync(first);
        var credential = first.Hosts.CreateCredential("node-1");
        var onFirst = new EcsClient(first.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        var onSecond = new EcsClient(second.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        var older = first.Store.CurrentRevision();
        using (StatusReportBatch.Of(first.Store).HoldWrites())
        {
            var poll = await ParkAsync(first, onFirst, t.Instance, older);
            await t.Tenant.AuthorizeAsync(t.Group, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
            Assert.False((await poll).GetProperty("StatusReported").GetBoolean());
            // The agent applied the change and reports it through the other node, which writes it first.
            await onSecond.CallAsync("ReportAgentStatus", new Dictionary<string, string> { ["RegionId"] = Region, ["AppliedRevision"] = Text(first.Store.CurrentRevision()), ["InstanceId.1"] = t.Instance });
        }
        var newer = first.Store.Read(s => s.LatestRevision(t.AccountId));
        Assert.Equal([newer], Stored(t));
        // The older report is written late (its event on the trail): the newer one's rows stay.
        await Until(() => Trail(first).Count == 2);
        Assert.Equal(["ReportAgentStatus 200 OK", "ReportAgentStatus 200 OK"], Trail(first));
        Assert.Equal([newer], Stored(t));
    }
}
