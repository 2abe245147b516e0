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

    public async Task InitializeAsync()
    {
        _first = await TestControlPlane.StartAsync();
        _second = await TestControlPlane.StartAsync(sameStoreAs: _first);
        var key = _first.NewAccount("feed");
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
        Assert.True(answer.GetProperty("CurrentRevision").GetInt64() > current);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "-1" }), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "0", WaitSeconds = 61 }), "InvalidParameter", 400);
    }
}
