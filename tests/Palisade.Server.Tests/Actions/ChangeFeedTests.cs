using System.Diagnostics;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>The change feed: gap-free revisions, per account, with a long poll that wakes on any node's change.</summary>
public sealed class ChangeFeedTests : IAsyncLifetime
{
    private TestControlPlane _first = null!;
    private TestControlPlane _second = null!;
    private Scenario _a = null!;
    private Scenario _b = null!;
    private long _accountId;

    public async Task InitializeAsync()
    {
        _first = await TestControlPlane.StartAsync();
        _second = await TestControlPlane.StartAsync(sameStoreAs: _first);
        var key = _first.NewAccount("feed");
        _accountId = key.AccountId;
        _a = new Scenario(_first.Client(key));
        _b = new Scenario(_second.Client(key));
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    [Fact]
    public async Task Changes_AreListedInOrder_AndRevisionsHaveNoGaps()
    {
        var start = (await _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64();
        var vpc = await _a.VpcAsync();
        await _b.GroupAsync(vpc, "one");
        await _a.GroupAsync(vpc, "two");
        var feed = await _b.Api.CallAsync("DescribeChanges", new { AfterRevision = start.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(["CreateVpc", "CreateSecurityGroup", "CreateSecurityGroup"], feed.Items("Changes", "Change").Select(c => c.Str("Action")));
        var revisions = feed.Items("Changes", "Change").Select(c => c.GetProperty("Revision").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, 3).Select(i => start + 1 + i), revisions);
        Assert.Equal(revisions[^1], feed.GetProperty("NextRevision").GetInt64());

        var all = _first.Store.Read(s => s.ListRevisions(null, 0, 10_000)).Select(r => r.Revision).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all);
        // The account's own numbering has no gaps either, from 1.
        var own = _first.Store.Read(s => s.ListRevisions(_accountId, 0, 10_000)).Select(r => r.Revision).ToList();
        Assert.Equal(Enumerable.Range(1, own.Count).Select(i => (long)i), own);
    }

    [Fact]
    public async Task ALongPoll_WakesOnAChangeMadeOnTheOtherNode()
    {
        var current = (await _b.Api.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64();
        var watch = Stopwatch.StartNew();
        var poll = _b.Api.CallAsync("DescribeChanges", new { AfterRevision = current.ToString(System.Globalization.CultureInfo.InvariantCulture), WaitSeconds = 20 });
        await Task.Delay(300);
        Assert.False(poll.IsCompleted);
        await _a.VpcAsync();
        var answer = await poll;
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the poll took {watch.Elapsed}");
        Assert.Equal("CreateVpc", Assert.Single(answer.Items("Changes", "Change")).Str("Action"));
    }

    [Fact]
    public async Task AnotherAccountsChanges_AreNotShown_AndAnEmptyWaitEnds()
    {
        var other = new Scenario(_first.Client(_first.NewAccount("other")));
        var current = (await _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64();
        await other.VpcAsync();
        var answer = await _a.Api.CallAsync("DescribeChanges", new { AfterRevision = current.ToString(System.Globalization.CultureInfo.InvariantCulture), WaitSeconds = 1 });
        Assert.Empty(answer.Items("Changes", "Change"));
        // Issue 19: the other account's activity does not move this account's revision.
        Assert.Equal(current, answer.GetProperty("CurrentRevision").GetInt64());
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "-1" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "0", WaitSeconds = 61 }), "InvalidParameter", 400);
    }

    /// <summary>Issue 19: a tenant saw the global revision (38 while its own was 4), and with it the others' pace.</summary>
    [Fact]
    public async Task EveryRevisionATenantSees_IsItsOwnAccounts()
    {
        var busy = new Scenario(_first.Client(_first.NewAccount("busy")));
        var quiet = new Scenario(_first.Client(_first.NewAccount("quiet")));
        var busyVpc = await busy.VpcAsync();
        for (var i = 0; i < 5; i++)
            await busy.GroupAsync(busyVpc, "g" + i);
        var quietVpc = await quiet.VpcAsync();
        var instance = (await quiet.RunAsync(await quiet.GroupAsync(quietVpc), await quiet.VSwitchAsync(quietVpc))).Single();
        _first.Bind(instance, "node-q", "vnet0");
        // The quiet tenant made 6 changes (its key, VPC, group, vSwitch, instance, binding), whatever the busy one did before and after.
        for (var i = 5; i < 10; i++)
            await busy.GroupAsync(busyVpc, "g" + i);
        var feed = await quiet.Api.CallAsync("DescribeChanges", new { AfterRevision = "0" });
        Assert.Equal(6, feed.GetProperty("CurrentRevision").GetInt64());
        Assert.Equal([1L, 2, 3, 4, 5, 6], feed.Items("Changes", "Change").Select(c => c.GetProperty("Revision").GetInt64()));
        // The host's agent (the operator's) sees the account's own revision beside the host's global one.
        var policy = await _first.HostClient("node-q").CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = "node-q" });
        Assert.Equal(6, policy.Items("Accounts", "Account").Single().GetProperty("AccountRevision").GetInt64());
        Assert.Equal(6, (await quiet.Api.CallAsync("ExportSecurityState", new { RegionId = Region })).GetProperty("AccountRevision").GetInt64());
        Assert.Equal(12, (await busy.Api.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64());
        // The trail numbers each success with the account's revision too.
        var trail = (await quiet.Api.CallAsync("DescribeActionTrail", new { MaxResults = 50 })).Items("Events", "Event").Select(e => e.Str("Revision")).Where(r => r.Length > 0);
        // Its key was made by the operator, not through the API: no event. The operator's bind is on its trail (issue 18).
        Assert.Equal(["6", "5", "4", "3", "2"], trail);
    }

    /// <summary>
    /// Issue 17: at 10,000 agents each poll whose wait ran out read the store once more before answering,
    /// queued behind every other renewal for a read slot, and was answered after the agent's 90 s timeout.
    /// A wait that runs out unwoken answers its read; a woken one reads again and answers what committed.
    /// </summary>
    [Fact]
    public async Task AWaitThatRunsOutUnwoken_AnswersItsRead_AndAWokenOneReadsAgain()
    {
        var reads = 0;
        ValueTask<(long, IReadOnlyList<Palisade.Storage.Records.RevisionRecord>)> Read(long after)
        {
            Interlocked.Increment(ref reads);
            return ValueTask.FromResult(_first.Store.Read(s => (s.LatestRevision(_accountId), s.ListRevisions(_accountId, after, 100))));
        }
        var watcher = _first.Store.Commits;
        var scope = new[] { Palisade.Storage.CommitScope.Account(_accountId) };
        var current = _first.Store.Read(s => s.LatestRevision(_accountId));
        // The set-up's commits seen first: a wake for one of them would be a (harmless) second read.
        var committed = _first.Store.CurrentRevision();
        while (watcher.Seen < committed)
            await Task.Delay(10);

        var quiet = await Server.Actions.Changes.DescribeChanges.PollAsync(() => watcher.Park(scope), () => Read(current),
            DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300), TimeProvider.System, CancellationToken.None);
        Assert.Empty(quiet.Changes);
        Assert.Equal(current, quiet.Current);
        Assert.Equal(1, reads);

        reads = 0;
        var woken = Server.Actions.Changes.DescribeChanges.PollAsync(() => watcher.Park(scope), () => Read(current),
            DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None);
        while (Volatile.Read(ref reads) == 0)
            await Task.Delay(10);
        await _b.VpcAsync();
        var answer = await woken;
        Assert.Equal("CreateVpc", Assert.Single(answer.Changes).Action);
        Assert.Equal(2, reads);
    }
}
