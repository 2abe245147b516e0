using System.Globalization;
using System.Text.Json;
using CsCheck;
using Palisade.Client;
using Palisade.Domain.Errors;
using Palisade.Domain.Hosts;
using Palisade.Server.Actions.Changes;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// A host's renewal answered from the commit watcher's knowledge, without a store read
/// (<see cref="ServerOptions.HostRenewalsFromWatcher"/>, issue 17, fourteenth session), against its slow
/// twin that reads the store on every renewal (and looks at the store for every host credential): for
/// random sequences of credentials made, rotated and revoked, commits that touch one host or the other,
/// and polls from the current revision or a few before it, answering at once or waiting, with the watcher caught up or not, every
/// poll gets the same outcome from both — the same number of changes, or the same refusal: a revoked
/// credential is refused and a host's commit is seen at once either way. On SQLite, and on PostgreSQL
/// when the run asks for it.
/// </summary>
public sealed class HostRenewalTests
{
    private enum Op { Create, Rotate, Revoke, Touch, Poll, Settle }

    [Fact]
    public async Task RenewalsFromTheWatcher_AnswerAsTheStoresReadDoes()
    {
        await using var fast = await TestControlPlane.StartAsync();
        await using var slow = await TestControlPlane.StartAsync(options: new ServerOptions { HostRenewalsFromWatcher = false, HostSecretsHeldForPolls = false });
        // A poll skips its read only when it will wait; here a wait of 1 s (the watcher is in process: it
        // sees a commit within milliseconds), so that polls that wait out their time keep the test short.
        // Every waiting poll comes after the watcher caught up (Settle), so none depends on how soon it
        // sees a commit: they wait at most ShortWait (on both servers), and skip their read from half of it.
        DescribeChanges.HostRenewals.Of(fast.Store.Commits).MinimumWait = ShortWait / 2;
        DescribeChanges.HostRenewals.Of(fast.Store.Commits).LongestWait = ShortWait;
        DescribeChanges.HostRenewals.Of(slow.Store.Commits).LongestWait = ShortWait;
        var round = 0;
        var gen = Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1], Gen.Int[0, 7]).Array[1, 16];
        await gen.SampleAsync(async ops =>
        {
            round++;
            var hosts = new[] { $"node-{round}-a", $"node-{round}-b" };
            var fastRun = await RunAsync(fast, hosts, ops);
            var slowRun = await RunAsync(slow, hosts, ops);
            Assert.Equal(slowRun, fastRun);
        }, iter: 40, threads: 1, print: ops => string.Join(", ", ops.Select(o => $"{o.Item1}({o.Item2},{o.Item3})")));
        // The fast server did answer renewals without a read (the twin never does).
        Assert.True(DescribeChanges.HostRenewals.Of(fast.Store.Commits).Skipped > 0);
        Assert.Equal(0, DescribeChanges.HostRenewals.Of(slow.Store.Commits).Skipped);
    }

    /// <summary>
    /// How long a poll of these tests that only needs its wait to run out waits (it asks for the API's
    /// least, a second): each of the some hundred such polls waited a second, most of the class's time.
    /// </summary>
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    /// <summary>The watcher catches up with the store (else a renewal may find it behind and read).</summary>
    private static async Task SettleAsync(TestControlPlane plane)
    {
        while (plane.Store.Commits.Seen < plane.Store.CurrentRevision())
            await Task.Delay(5);
    }

    /// <summary>What each poll of the sequence got: "ok" and its number of changes, or the error's code.</summary>
    private static async Task<List<string>> RunAsync(TestControlPlane plane, string[] hosts, (Op Op, int Host, int N)[] ops)
    {
        foreach (var host in hosts)
            plane.Hosts.Declare(host, HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        var made = new List<Storage.Hosts.HostService.NewCredential>();
        var outcomes = new List<string>();
        var touches = 0;
        foreach (var (op, host, n) in ops)
        {
            var credential = made.Count == 0 ? null : made[n % made.Count];
            try
            {
                switch (op)
                {
                    case Op.Create:
                        made.Add(plane.Hosts.CreateCredential(hosts[host]));
                        break;
                    case Op.Rotate:
                        made.Add(plane.Hosts.RotateCredential(hosts[host]).Credential);
                        break;
                    case Op.Revoke when credential is not null:
                        plane.Hosts.RevokeCredential(credential.AccessKeyId);
                        break;
                    case Op.Touch:
                        // A commit for that host alone (what its agent enforces may change).
                        plane.Hosts.Declare(hosts[host], HostDeclaration.Parse(++touches % 2 == 0 ? "*" : "vnet*", "0.0.0.0/0 ::/0"));
                        break;
                    case Op.Settle:
                        await SettleAsync(plane);
                        break;
                    case Op.Poll when credential is not null:
                        var client = new EcsClient(plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
                        var after = Math.Max(0, plane.Store.CurrentRevision() - n % 4);
                        if (n / 4 == 1)
                        {
                            // A waiting poll is a renewal: the poll before it read the store (and found the
                            // credential), and the watcher caught up meanwhile (on PostgreSQL it learns of a
                            // commit a few milliseconds later).
                            var before = await client.CallAsync("DescribeChanges", new { AfterRevision = after.ToString(CultureInfo.InvariantCulture) });
                            outcomes.Add("ok " + before.GetProperty("Changes").GetProperty("Change").GetArrayLength());
                            await SettleAsync(plane);
                        }
                        // Half the polls answer at once (they always read), half wait a second (they may skip it).
                        var answer = await client.CallAsync("DescribeChanges", new { AfterRevision = after.ToString(CultureInfo.InvariantCulture), WaitSeconds = n / 4 });
                        outcomes.Add("ok " + answer.GetProperty("Changes").GetProperty("Change").GetArrayLength());
                        continue;
                    default:
                        continue;
                }
            }
            catch (EcsException e)
            {
                outcomes.Add(e.Error.Code);
            }
            catch (EcsApiException e)
            {
                outcomes.Add(e.Code);
            }
        }
        return outcomes;
    }

    /// <summary>
    /// The renewal the skip is for, step by step: a poll reads and finds its credential; the renewal
    /// after it (nothing touched the host) is answered without a read; after the credential is revoked
    /// the next renewal is refused at once, and after a commit for the host it sees the change.
    /// </summary>
    [Fact]
    public async Task ARenewal_SkipsItsRead_UntilTheHostIsTouched()
    {
        await using var plane = await TestControlPlane.StartAsync();
        var renewals = DescribeChanges.HostRenewals.Of(plane.Store.Commits);
        renewals.MinimumWait = TimeSpan.FromMilliseconds(500);
        plane.Hosts.Declare("node-1", HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        var kept = plane.Hosts.CreateCredential("node-1");
        var revoked = plane.Hosts.CreateCredential("node-1");
        EcsClient Agent(Storage.Hosts.HostService.NewCredential c) => new(plane.Http, new ClientCredentials(c.AccessKeyId, c.AccessKeySecret));
        async Task<int> Poll(Storage.Hosts.HostService.NewCredential c, long after, int wait) =>
            (await Agent(c).CallAsync("DescribeChanges", new { AfterRevision = after.ToString(CultureInfo.InvariantCulture), WaitSeconds = wait }))
                .GetProperty("Changes").GetProperty("Change").GetArrayLength();
        var current = plane.Store.CurrentRevision();
        Assert.Equal(0, await Poll(kept, current, 0));
        Assert.Equal(0, await Poll(revoked, current, 0));
        await SettleAsync(plane);
        Assert.Equal(0, await Poll(kept, current, 1));
        Assert.Equal(1, renewals.Skipped);
        plane.Hosts.RevokeCredential(revoked.AccessKeyId);
        await SettleAsync(plane);
        await ApiAssert.FailsAsync(() => Poll(revoked, current, 1), EcsErrorCodes.InvalidAccessKeyIdNotFound, 404);
        // The revocation touched the host: the kept credential's renewal reads, and sees it.
        Assert.Equal(1, await Poll(kept, current, 1));
        Assert.Equal(1, renewals.Skipped);
    }

    private enum Wake { Rule, Revoke, Rotate, OtherHostsRule }

    /// <summary>
    /// A woken host poll answered from the commit ledger (<see cref="ServerOptions.HostWakesFromLedger"/>,
    /// issue 17, fifteenth session) against its slow twin that reads the store on every wake: for random
    /// sequences of polls from the current revision, each with a new credential, parked (after the
    /// watcher caught up or not) and then woken by a commit — a rule in the group of the host's instance (a commit of its account), the poll's own
    /// credential revoked or rotated (a write of no account naming the host), or a rule in the
    /// other host's group — every poll gets the same outcome from both: the same changes by action, the
    /// same next revision relative to its own, or the same refusal (a revoked credential is refused at once);
    /// and the agent's next poll from there (a renewal, which may skip its read on the credential the ledger
    /// proved), after a revocation, a change for the host or nothing, gets the same too.
    /// </summary>
    [Fact]
    public async Task WokenPollsFromTheLedger_AnswerAsTheStoresReadDoes()
    {
        await using var fast = await TestControlPlane.StartAsync();
        await using var slow = await TestControlPlane.StartAsync(options: new ServerOptions { HostWakesFromLedger = false });
        var fastSetup = await WokenSetupAsync(fast);
        var slowSetup = await WokenSetupAsync(slow);
        DescribeChanges.HostRenewals.Of(fast.Store.Commits).MinimumWait = ShortWait / 2;
        var gen = Gen.Select(Gen.Enum<Wake>(), Gen.Int[0, 1], Gen.Bool, Gen.Int[0, 2], Gen.Bool).Array[1, 6];
        await gen.SampleAsync(async ops =>
        {
            var fastRun = await RunWokenAsync(fast, fastSetup, ops);
            var slowRun = await RunWokenAsync(slow, slowSetup, ops);
            Assert.Equal(slowRun, fastRun);
        }, iter: 20, threads: 1, print: ops => string.Join(", ", ops.Select(o => $"{o.Item1}({o.Item2},{o.Item3},{o.Item4},{o.Item5})")));
        // The fast server did answer woken polls from the ledger (the twin never does).
        Assert.True(DescribeChanges.HostRenewals.Of(fast.Store.Commits).WokenFromLedger > 0);
        Assert.Equal(0, DescribeChanges.HostRenewals.Of(slow.Store.Commits).WokenFromLedger);
    }

    private sealed record WokenSetup(Scenario Tenant, string[] Hosts, string[] Groups);

    /// <summary>One tenant, two hosts, an instance on each in a group of its own.</summary>
    private static async Task<WokenSetup> WokenSetupAsync(TestControlPlane plane)
    {
        var tenant = new Scenario(plane.Client(plane.NewAccount("woken")));
        var vpc = await tenant.VpcAsync();
        var vsw = await tenant.VSwitchAsync(vpc);
        var hosts = new[] { "woken-a", "woken-b" };
        var groups = new List<string>();
        for (var h = 0; h < hosts.Length; h++)
        {
            var group = await tenant.GroupAsync(vpc, "g" + h);
            groups.Add(group);
            plane.Bind((await tenant.RunAsync(group, vsw)).Single(), hosts[h], "vnet" + h);
        }
        return new WokenSetup(tenant, hosts, [.. groups]);
    }

    private static int _port = 1000;

    /// <summary>What each woken poll got: its changes' actions and next revision relative to its own, or the error's code.</summary>
    /// <remarks>
    /// A poll may ask for the host's policy with the wake (<c>IncludeHostPolicy</c>, eighteenth session):
    /// the outcome then says whether it carried one and at which revision; a poll whose credential was
    /// revoked or rotated out while it was parked is refused, and gets no policy, on either path.
    /// </remarks>
    private static async Task<List<string>> RunWokenAsync(TestControlPlane plane, WokenSetup setup, (Wake Wake, int Host, bool Renewed, int Then, bool WithPolicy)[] ops)
    {
        var outcomes = new List<string>();
        foreach (var (wake, h, renewed, then, withPolicy) in ops)
        {
            var host = setup.Hosts[h];
            var credential = plane.Hosts.CreateCredential(host);
            var client = new EcsClient(plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
            await SettleAsync(plane);
            var current = plane.Store.CurrentRevision();
            // A poll before the wake reads (it answers at once), finding the credential; the renewal after it may skip its read.
            await client.CallAsync("DescribeChanges", new { AfterRevision = current.ToString(CultureInfo.InvariantCulture) });
            if (renewed)
                await SettleAsync(plane);
            var parked = plane.Store.Commits.ParkedCount;
            var poll = new Dictionary<string, string> { ["AfterRevision"] = current.ToString(CultureInfo.InvariantCulture), ["WaitSeconds"] = "10" };
            if (withPolicy)
                (poll["IncludeHostPolicy"], poll["RegionId"], poll["PerNic"], poll["SharedParts"]) = ("true", Region, "true", "true");
            var waiting = client.CallAsync("DescribeChanges", poll);
            for (var i = 0; i < 400 && plane.Store.Commits.ParkedCount <= parked; i++)
                await Task.Delay(5);
            switch (wake)
            {
                case Wake.Rule:
                case Wake.OtherHostsRule:
                    var port = Interlocked.Increment(ref _port).ToString(CultureInfo.InvariantCulture);
                    await setup.Tenant.AuthorizeAsync(setup.Groups[wake == Wake.Rule ? h : 1 - h], new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" });
                    if (wake == Wake.OtherHostsRule)
                        await setup.Tenant.AuthorizeAsync(setup.Groups[h], new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" });
                    break;
                case Wake.Revoke:
                    plane.Hosts.RevokeCredential(credential.AccessKeyId);
                    break;
                case Wake.Rotate:
                    plane.Hosts.RotateCredential(host);
                    break;
            }
            try
            {
                var answer = await waiting;
                var changes = answer.GetProperty("Changes").GetProperty("Change").EnumerateArray().Select(c => c.GetProperty("Action").GetString()).ToList();
                outcomes.Add($"ok {string.Join(' ', changes)} +{answer.GetProperty("NextRevision").GetInt64() - current}"
                    + (answer.TryGetProperty("HostPolicy", out var policy) ? $" policy +{policy.GetProperty("Revision").GetInt64() - current}" : ""));
                Assert.True(wake is not (Wake.Revoke or Wake.Rotate), $"{wake}: the poll of a credential revoked while it was parked was answered");
                Assert.Equal(withPolicy && changes.Count > 0, answer.TryGetProperty("HostPolicy", out _));
                // The agent's next poll, from the change it was told of: a renewal (it may skip its read,
                // the credential proven by the ledger), after the credential was revoked or the host's
                // group changed, or not.
                var next = answer.GetProperty("NextRevision").GetInt64();
                if (then == 1)
                    plane.Hosts.RevokeCredential(credential.AccessKeyId);
                else if (then == 2)
                {
                    var p = Interlocked.Increment(ref _port).ToString(CultureInfo.InvariantCulture);
                    await setup.Tenant.AuthorizeAsync(setup.Groups[h], new { IpProtocol = "tcp", PortRange = $"{p}/{p}", SourceCidrIp = "10.0.0.0/8" });
                }
                await SettleAsync(plane);
                // The renewal waits at most ShortWait (its wait runs out unless a change or the revocation
                // above answers it at once); the parked polls above wait their 10 s for their wake.
                var renewals = DescribeChanges.HostRenewals.Of(plane.Store.Commits);
                renewals.LongestWait = ShortWait;
                JsonElement renewal;
                try
                {
                    renewal = await client.CallAsync("DescribeChanges", new { AfterRevision = next.ToString(CultureInfo.InvariantCulture), WaitSeconds = 1 });
                }
                finally
                {
                    renewals.LongestWait = null;
                }
                outcomes.Add($"renewal {string.Join(' ', renewal.GetProperty("Changes").GetProperty("Change").EnumerateArray().Select(c => c.GetProperty("Action").GetString()))}");
            }
            catch (EcsApiException e)
            {
                outcomes.Add(e.Code);
            }
        }
        return outcomes;
    }
}
