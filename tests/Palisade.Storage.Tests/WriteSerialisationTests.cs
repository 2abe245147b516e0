using System.Diagnostics;
using Palisade.Domain.Groups;
using Palisade.TestKit;

namespace Palisade.Storage.Tests;

/// <summary>
/// Writes are serialised per account (issue 17). On PostgreSQL, two nodes: a long transaction of one
/// account does not delay another account's write, while two writes of one account still take turns
/// and every revision stays gap-free. On SQLite the database has one writer: the second write waits,
/// which is what this shows there.
/// </summary>
public sealed class WriteSerialisationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "palisade-locks-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();
    private readonly IStore _first;
    private readonly IStore _second;
    private readonly long _a;
    private readonly long _b;

    public WriteSerialisationTests()
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

    private static void Tag(IStoreSession s, long account) =>
        s.SetTag(account, "instance", "i-" + Guid.NewGuid().ToString("N")[..8], new Tag("k", "v"));

    /// <summary>Starts a write of <paramref name="account"/> on the first node that holds its transaction open until released.</summary>
    private (Task Write, ManualResetEventSlim Release, ManualResetEventSlim Inside) LongWrite(long account, string resource = "")
    {
        var release = new ManualResetEventSlim();
        var inside = new ManualResetEventSlim();
        var write = Task.Factory.StartNew(() => _first.Write("TagResources", account, s =>
        {
            if (resource.Length > 0)
                s.SerializeWith(resource);
            Tag(s, account);
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(60));
            return 0;
        }), TaskCreationOptions.LongRunning);
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)), "the long write never started");
        return (write, release, inside);
    }

    private Task<TimeSpan> TimedWrite(IStore store, long account, string resource = "") => Task.Factory.StartNew(() =>
    {
        var watch = Stopwatch.StartNew();
        store.Write("TagResources", account, s =>
        {
            if (resource.Length > 0)
                s.SerializeWith(resource);
            Tag(s, account);
            return 0;
        });
        return watch.Elapsed;
    }, TaskCreationOptions.LongRunning);

    [Fact]
    public async Task ALongTransactionOfOneAccount_DoesNotDelayAnotherAccountsWrite()
    {
        var (longWrite, release, _) = LongWrite(_a);
        var other = TimedWrite(_second, _b);
        var finished = await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(3)));
        if (TestStores.OnPostgres)
        {
            Assert.Same(other, finished);
            Assert.False(longWrite.IsCompleted);
            release.Set();
        }
        else
        {
            // One SQLite writer: the other account's write waits for the long one, then goes through.
            Assert.NotSame(other, finished);
            release.Set();
            await other;
        }
        await longWrite;
        AssertRevisionsGapFree();
    }

    [Fact]
    public async Task TwoWritesOfOneAccount_TakeTurns_OnTwoNodes()
    {
        var (longWrite, release, _) = LongWrite(_a);
        var same = TimedWrite(_second, _a);
        Assert.NotSame(same, await Task.WhenAny(same, Task.Delay(TimeSpan.FromSeconds(2))));
        release.Set();
        await Task.WhenAll(longWrite, same);
        AssertRevisionsGapFree();
    }

    [Fact]
    public async Task WritesOfTwoAccounts_OnOneSharedResource_TakeTurns()
    {
        var c = _first.Write("CreateAccount", null, s => s.CreateAccount("c", DateTimeOffset.UtcNow)).AccountId;
        var (longWrite, release, _) = LongWrite(_a, "host:h1");
        var same = TimedWrite(_second, _b, "host:h1");
        Assert.NotSame(same, await Task.WhenAny(same, Task.Delay(TimeSpan.FromSeconds(2))));
        // A third account on another host: neither its account nor its resource is held.
        var elsewhere = TimedWrite(_second, c, "host:h2");
        if (TestStores.OnPostgres)
            Assert.Same(elsewhere, await Task.WhenAny(elsewhere, Task.Delay(TimeSpan.FromSeconds(3))));
        release.Set();
        await Task.WhenAll(longWrite, same, elsewhere);
        AssertRevisionsGapFree();
    }

    /// <summary>Starts a write on <paramref name="resource"/> alone (a host's agent report) on the first node that holds its transaction open until released.</summary>
    private (Task Write, ManualResetEventSlim Release) LongWriteOn(string resource)
    {
        var release = new ManualResetEventSlim();
        var inside = new ManualResetEventSlim();
        var write = Task.Factory.StartNew(() => _first.WriteOn("ReportAgentStatus", resource, s =>
        {
            s.SaveHostReports(new Records.HostReportMark(resource, 0, DateTimeOffset.UnixEpoch), []);
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(60));
            return 0;
        }), TaskCreationOptions.LongRunning);
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)), "the long write never started");
        return (write, release);
    }

    private Task<TimeSpan> TimedWriteOn(IStore store, string resource) => Task.Factory.StartNew(() =>
    {
        var watch = Stopwatch.StartNew();
        store.WriteOn("ReportAgentStatus", resource, s =>
        {
            s.SaveHostReports(new Records.HostReportMark(resource, 0, DateTimeOffset.UnixEpoch), []);
            return 0;
        });
        return watch.Elapsed;
    }, TaskCreationOptions.LongRunning);

    [Fact]
    public async Task AWriteOnOneHost_DoesNotDelayAnotherHostsOrAnAccountsWrite_ButTheSameHostsWaits()
    {
        var (longWrite, release) = LongWriteOn("host:h1");
        var otherHost = TimedWriteOn(_second, "host:h2");
        var account = TimedWrite(_second, _a);
        var sameHost = TimedWriteOn(_second, "host:h1");
        // The operator's binding on that host (an account's write naming the host) waits for it too.
        var binding = TimedWrite(_second, _b, "host:h1");
        if (TestStores.OnPostgres)
        {
            Assert.Same(otherHost, await Task.WhenAny(otherHost, Task.Delay(TimeSpan.FromSeconds(3))));
            Assert.Same(account, await Task.WhenAny(account, Task.Delay(TimeSpan.FromSeconds(3))));
            Assert.False(sameHost.IsCompleted);
            Assert.False(binding.IsCompleted);
        }
        else
        {
            // One SQLite writer: everything waits for the long one.
            Assert.NotSame(otherHost, await Task.WhenAny(otherHost, Task.Delay(TimeSpan.FromSeconds(2))));
        }
        release.Set();
        await Task.WhenAll(longWrite, otherHost, account, sameHost, binding);
        AssertRevisionsGapFree();
    }

    [Fact]
    public async Task AHostCredentialsUseNote_DoesNotWaitForAnAccountsLongWrite()
    {
        // Issue 17: the note was a write of no account (the global lock, exclusively), so every
        // agent's first request a minute waited for whatever any account was writing.
        var protector = new Palisade.Storage.Accounts.SecretProtector(new byte[32]);
        var credential = new Palisade.Storage.Hosts.HostService(_first, protector, TimeProvider.System).CreateCredential("h1");
        var (longWrite, release, _) = LongWrite(_a);
        var note = Task.Factory.StartNew(() => new Palisade.Storage.Accounts.AccountService(_second, protector, TimeProvider.System).NoteHostCredentialUse(credential.AccessKeyId, DateTimeOffset.UtcNow),
            TaskCreationOptions.LongRunning);
        if (TestStores.OnPostgres)
        {
            Assert.Same(note, await Task.WhenAny(note, Task.Delay(TimeSpan.FromSeconds(3))));
            Assert.False(longWrite.IsCompleted);
        }
        release.Set();
        await Task.WhenAll(longWrite, note);
        Assert.NotNull(_first.Read(s => s.FindHostCredential(credential.AccessKeyId))!.LastUsedAt);
        AssertRevisionsGapFree();
    }

    [Fact]
    public void AWriteOnAResource_ThatChangesTheState_IsRefusedAndRolledBack()
    {
        var before = _first.CurrentRevision();
        var refused = Assert.Throws<InvalidOperationException>(() => _first.WriteOn("ReportAgentStatus", "host:h1", s =>
        {
            Tag(s, _a);
            return 0;
        }));
        Assert.Contains("changed the control plane's state", refused.Message);
        Assert.Equal(before, _first.CurrentRevision());
        Assert.Empty(_first.Read(s => s.ListTagsOfType(_a, "instance")));
    }

    [Fact]
    public async Task ManyAccountsWritingAtOnceOnTwoNodes_LeaveGapFreeRevisions_GlobalAndPerAccount()
    {
        var accounts = Enumerable.Range(0, 6).Select(i => _first.Write("CreateAccount", null, s => s.CreateAccount($"m{i}", DateTimeOffset.UtcNow)).AccountId).ToList();
        await Task.WhenAll(Enumerable.Range(0, 120).Select(i => TimedWrite(i % 2 == 0 ? _first : _second, accounts[i % accounts.Count])));
        AssertRevisionsGapFree();
        foreach (var account in accounts)
            Assert.Equal(20, _first.Read(s => s.LatestRevision(account)));
    }

    private void AssertRevisionsGapFree()
    {
        var all = _first.Read(s => s.ListRevisions(null, 0, 100_000));
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(r => r.Revision));
        foreach (var account in all.Where(r => r.AccountId is not null).Select(r => r.AccountId!.Value).Distinct())
        {
            var own = _first.Read(s => s.ListRevisions(account, 0, 100_000)).Select(r => r.Revision).ToList();
            Assert.Equal(Enumerable.Range(1, own.Count).Select(i => (long)i), own);
        }
    }
}
