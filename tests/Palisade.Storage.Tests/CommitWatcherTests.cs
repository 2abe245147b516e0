using CsCheck;
using System.Diagnostics;
using Palisade.Storage.Records;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// The commit watcher, on two stores over one database (two nodes): a commit wakes the polls parked
/// on its account on both nodes and no other poll; a lost signal is found by the safety look.
/// </summary>
public sealed class CommitWatcherTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-watch-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _first;
    private readonly IStore _second;
    private readonly long _a;
    private readonly long _b;

    public CommitWatcherTests()
    {
        _first = StoreFactory.Open(_database?.ConnectionString, _directory);
        _second = StoreFactory.Open(_database?.ConnectionString, _directory);
        _a = _first.Write("CreateAccount", null, s => s.CreateAccount("a", DateTimeOffset.UtcNow)).AccountId;
        _b = _first.Write("CreateAccount", null, s => s.CreateAccount("b", DateTimeOffset.UtcNow)).AccountId;
    }

    public void Dispose()
    {
        _second.Dispose();
        _first.Dispose();
        _database?.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private void Change(IStore store, long account) =>
        store.Write("TagResources", account, s =>
        {
            s.SetTag(account, "instance", "i-" + Guid.NewGuid().ToString("N")[..8], new Domain.Groups.Tag("k", "v"));
            return 0;
        });

    /// <summary>
    /// A look begun after the call (issue 17, fourteenth session: what a host fetch served from memory waits
    /// for): every commit made before it, on either node, is in the ledger with its account's own revision,
    /// even while this node's notifications are lost and long before its safety look.
    /// </summary>
    [Fact]
    public async Task AfterALookBegunLater_TheLedgerHoldsEveryEarlierCommit_OfEitherNode_WithSignalsLost()
    {
        Assert.True(await _first.Commits.LookedAfterAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        _first.Commits.DropSignals = true;
        try
        {
            Change(_second, _a);
            Change(_second, _a);
            Change(_first, _b);
            var (revision, ofA) = _second.Read(s => (s.CurrentRevision(), s.LatestRevision(_a)));
            Assert.True(await _first.Commits.LookedAfterAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
            Assert.Equal(revision, _first.Commits.Ledger.Seen);
            var changes = _first.Commits.Ledger.ChangesFor("no-such-host", revision - 3, [_a, _b]);
            Assert.NotNull(changes);
            Assert.Equal(ofA, changes.AccountRevisions[_a]);
            Assert.Equal(revision, changes.Revision);
        }
        finally
        {
            _first.Commits.DropSignals = false;
        }
    }

    [Fact]
    public async Task ACommit_WakesThePollsOfItsAccount_OnBothNodes_AndNoOther()
    {
        using var onFirst = _first.Commits.Park([CommitScope.Account(_a)]);
        using var onSecond = _second.Commits.Park([CommitScope.Account(_a)]);
        using var otherAccount = _second.Commits.Park([CommitScope.Account(_b)]);
        Change(_first, _a);
        var watch = Stopwatch.StartNew();
        Assert.True(await onFirst.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.True(await onSecond.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        // Another node learns through its signal (NOTIFY on PostgreSQL, the shared queue on SQLite), well before a safety look.
        Assert.True(watch.Elapsed < CommitWatcher.DefaultSafetyInterval, $"woken after {watch.Elapsed}");
        Assert.False(await otherAccount.WaitAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
    }

    /// <summary>
    /// A parked wait ends in one of three ways, told apart without an exception for the common one
    /// (thirteenth session): woken (true), run out (false), or its request gone (cancelled, thrown).
    /// </summary>
    [Fact]
    public async Task AWait_IsWoken_OrRunsOut_OrIsCancelled_AndSaysWhich()
    {
        using var runsOut = _first.Commits.Park([CommitScope.Account(_b)]);
        Assert.False(await runsOut.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        using var cancelled = _first.Commits.Park([CommitScope.Account(_b)]);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(30), gone.Token));
        using var woken = _first.Commits.Park([CommitScope.Account(_a)]);
        var waiting = woken.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Change(_second, _a);
        Assert.True(await waiting);
    }

    /// <summary>
    /// A long wait (a host's renewal) runs out by the watcher's one sweep a second, not by a timer of
    /// its own (thirteenth session): not before its time and within about a second after it; woken, it
    /// answers at once; its request gone, it throws.
    /// </summary>
    [Fact]
    public async Task ALongWait_RunsOutByTheWatchersSweep_NotBeforeItsTime()
    {
        var wait = CommitWatcher.SweptWaitsFrom;
        using var runsOut = _first.Commits.Park([CommitScope.Account(_b)]);
        var watch = Stopwatch.StartNew();
        var waiting = runsOut.WaitAsync(wait, CancellationToken.None);
        Assert.Equal(1, _first.Commits.RunningOut);
        Assert.False(await waiting);
        Assert.InRange(watch.Elapsed, wait - TimeSpan.FromMilliseconds(20), wait + TimeSpan.FromSeconds(3));
        Assert.Equal(0, _first.Commits.RunningOut);

        using var woken = _first.Commits.Park([CommitScope.Account(_a)]);
        var wokenWait = woken.WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
        Change(_second, _a);
        Assert.True(await wokenWait.WaitAsync(TimeSpan.FromSeconds(10)));

        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        using var cancelled = _first.Commits.Park([CommitScope.Account(_b)]);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromMinutes(5), gone.Token));
    }

    [Fact]
    public async Task ALostSignal_IsFoundByTheSafetyLook()
    {
        _second.Commits.DropSignals = true;
        using var parked = _second.Commits.Park([CommitScope.Account(_a)]);
        var watch = Stopwatch.StartNew();
        Change(_first, _a);
        Assert.True(await parked.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.True(watch.Elapsed <= CommitWatcher.DefaultSafetyInterval + TimeSpan.FromSeconds(2), $"woken after {watch.Elapsed}");
    }

    [Fact]
    public async Task WhileNothingCommits_AWatcherOnlyLooksOncePerSafetyInterval_HoweverManyPollsAreParked()
    {
        var parked = Enumerable.Range(0, 10_000).Select(i => _first.Commits.Park([CommitScope.Account(i % 2 == 0 ? _a : _b)])).ToList();
        var looks = _first.Commits.Looks;
        await Task.Delay(CommitWatcher.DefaultSafetyInterval * 2.5);
        var made = _first.Commits.Looks - looks;
        // Two or three safety looks in 2.5 intervals, and the set-up's two commits may each still be
        // looked at after the count was read (on a loaded machine the signal is served late). What this
        // shows is the bound: not a look per parked poll (10,000), nor one per poll every 20 ms as before.
        Assert.InRange(made, 1, 5);
        Assert.All(parked, p => Assert.False(p.WaitAsync(TimeSpan.Zero, CancellationToken.None).Result));
        Assert.Equal(10_000, _first.Commits.ParkedCount);
        parked.ForEach(p => p.Dispose());
        Assert.Equal(0, _first.Commits.ParkedCount);
    }

    [Fact]
    public async Task APollParkedBeforeItsRead_IsWokenByACommitBetweenTheReadAndTheWait()
    {
        using var parked = _second.Commits.Park([CommitScope.Account(_a)]);
        var before = _second.Read(s => s.LatestRevision(_a));
        Change(_first, _a);
        Assert.True(await parked.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(before + 1, _second.Read(s => s.LatestRevision(_a)));
    }
    /// <summary>
    /// What the watcher knows of a host's feed (issue 17, fourteenth session), against the store's read
    /// of it: for random commits (host declarations, credentials made and revoked, an account's change
    /// that touches no host), once the watcher has looked, "nothing touched the host since revision R"
    /// is exactly "the store's host feed after R is empty" for every R from the watcher's start to what
    /// it has seen, and never claimed for an R before its start or beyond what it has seen.
    /// </summary>
    [Fact]
    public void UntouchedSince_IsTheStoresHostFeed_FromTheWatchersStartToWhatItSaw()
    {
        var hosts = new Hosts.HostService(_first, Accounts.SecretProtector.ForDataDirectory(Path.Combine(_directory, "master.key")), TimeProvider.System);
        var watcher = _first.Commits;
        watcher.DropSignals = true;
        string[] names = ["h0", "h1", "h2"];
        var declared = 0;
        foreach (var name in names)
            hosts.Declare(name, Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 2]).Array[1, 6].Sample(ops =>
        {
            foreach (var (kind, h) in ops)
            {
                switch (kind)
                {
                    case 0:
                        hosts.Declare(names[h], Domain.Hosts.HostDeclaration.Parse(++declared % 2 == 0 ? "*" : "vnet*", "0.0.0.0/0 ::/0"));
                        break;
                    case 1:
                        Change(_first, _a);
                        break;
                    case 2:
                        var made = hosts.CreateCredential(names[h]);
                        hosts.RevokeCredential(made.AccessKeyId);
                        break;
                }
            }
            watcher.LookOnce();
            var seen = watcher.Seen;
            for (var after = Math.Max(0, watcher.Origin - 2); after <= seen + 2; after++)
            {
                foreach (var name in names)
                {
                    var untouched = watcher.UntouchedSince([CommitScope.Host(name), CommitScope.EveryHost], after);
                    if (after < watcher.Origin || after > seen)
                        Assert.False(untouched, $"claimed for {name} after {after}, outside {watcher.Origin}..{seen}");
                    else
                        Assert.Equal(_first.Read(s => s.ListHostRevisions(name, after, 1)).Count == 0, untouched);
                }
            }
        }, iter: 25, threads: 1);
    }
}
