using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Domain.Errors;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// A long poll's renewal costs the node less (issue 17): it is verified with the host credential's
/// secret the node holds (the poll's own read checks the credential is still there), and its use is
/// noted with the other credentials' once an interval, not written on each renewal.
/// </summary>
public sealed class HostPollAuthenticationTests
{
    private enum Op { Create, Revoke, Rotate, Poll, PollOtherHost, Fetch, Report }

    /// <summary>
    /// The held secret (fast) against a look at the store on every renewal (its slow twin,
    /// <see cref="ServerOptions.HostSecretsHeldForPolls"/> off): for random sequences of credentials
    /// made, revoked and rotated on two hosts, and polls, fetches and status reports with them, every call gets the same
    /// outcome from both — a revoked or rotated-out credential is refused at once either way.
    /// </summary>
    [Fact]
    public async Task HeldSecrets_RefuseAndAdmit_ExactlyAsALookAtTheStoreDoes()
    {
        await using var fast = await TestControlPlane.StartAsync();
        await using var slow = await TestControlPlane.StartAsync(options: new ServerOptions { HostSecretsHeldForPolls = false });
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
    }

    /// <summary>What each call of the sequence got: "ok", or the error's code.</summary>
    private static async Task<List<string>> RunAsync(TestControlPlane plane, string[] hosts, (Op Op, int Host, int Credential)[] ops)
    {
        foreach (var host in hosts)
            plane.Hosts.Declare(host, Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        var made = new List<Storage.Hosts.HostService.NewCredential>();
        var outcomes = new List<string>();
        foreach (var (op, host, index) in ops)
        {
            var credential = made.Count == 0 ? null : made[index % made.Count];
            var client = credential is null ? null : new EcsClient(plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
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
                    case Op.Poll when client is not null:
                        await client.CallAsync("DescribeChanges", new { AfterRevision = "0" });
                        break;
                    case Op.PollOtherHost when client is not null:
                        await client.CallAsync("DescribeChanges", new { AfterRevision = "0", HostName = hosts[host] });
                        break;
                    case Op.Fetch when client is not null:
                        await client.CallAsync("DescribeHostPolicy", new { RegionId = Region });
                        break;
                    case Op.Report when client is not null:
                        // The report checks its credential in its own write (issue 17, fifteenth session).
                        await client.CallAsync("ReportAgentStatus", new { AppliedRevision = "0" });
                        break;
                    default:
                        outcomes.Add("none");
                        continue;
                }
                outcomes.Add("ok");
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

    /// <summary>A host's poll may wait up to 300 s (an account's up to 60 s); the wait still ends at the first commit for the host.</summary>
    [Fact]
    public async Task AHostsPoll_MayWaitFiveMinutes_AndEndsAtItsHostsCommit()
    {
        await using var plane = await TestControlPlane.StartAsync();
        plane.Hosts.Declare("node-1", Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        var credential = plane.Hosts.CreateCredential("node-1");
        var agent = new EcsClient(plane.Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
        await ApiAssert.FailsAsync(() => agent.CallAsync("DescribeChanges", new { AfterRevision = "0", WaitSeconds = 301 }), "InvalidParameter", 400);
        var current = plane.Store.CurrentRevision().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var waiting = agent.CallAsync("DescribeChanges", new { AfterRevision = current, WaitSeconds = 300 });
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        plane.Hosts.RevokeCredential(credential.AccessKeyId);
        await ApiAssert.FailsAsync(() => waiting.WaitAsync(TimeSpan.FromSeconds(60)), EcsErrorCodes.InvalidAccessKeyIdNotFound, 404);
    }

    /// <summary>
    /// A credential's first use on a node is written at once; its later uses wait for the node's next
    /// batch, one write for every credential used meanwhile, once an interval.
    /// </summary>
    [Fact]
    public async Task LaterUses_AreWrittenTogether_OnceAnInterval_NotOnEachRenewal()
    {
        var t0 = new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero);
        var clock = new ManualClock(t0);
        await using var plane = await TestControlPlane.StartAsync(clock: clock);
        plane.Hosts.Declare("node-1", Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        var authenticator = plane.Services.GetRequiredService<Authenticator>();
        var one = plane.Hosts.CreateCredential("node-1");
        var two = plane.Hosts.CreateCredential("node-1");
        Task Poll(Storage.Hosts.HostService.NewCredential c) =>
            new EcsClient(plane.Http, new ClientCredentials(c.AccessKeyId, c.AccessKeySecret), clock: clock).CallAsync("DescribeChanges", new { AfterRevision = "0" });
        DateTimeOffset? LastUse(Storage.Hosts.HostService.NewCredential c) =>
            plane.Hosts.ListCredentials("node-1").Single(x => x.AccessKeyId == c.AccessKeyId).LastUsedAt;
        async Task Flushed()
        {
            await authenticator.LastHostCredentialUsesWrite.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, authenticator.HostCredentialUsesDue);
        }

        await Poll(one);
        await Poll(two);
        Assert.Equal((t0, t0), (LastUse(one), LastUse(two)));

        clock.Advance(TimeSpan.FromSeconds(30));
        await Poll(one);
        Assert.Equal(0, authenticator.HostCredentialUsesDue);

        // A minute on: the use is due, and the batch (the first since the node started) goes at once.
        clock.Advance(TimeSpan.FromSeconds(31));
        await Poll(one);
        await Flushed();
        Assert.Equal((t0.AddSeconds(61), t0), (LastUse(one), LastUse(two)));

        // Another credential's use within the batch's interval: collected, not written.
        clock.Advance(TimeSpan.FromSeconds(29));
        await Poll(two);
        Assert.Equal(1, authenticator.HostCredentialUsesDue);
        Assert.Equal(t0, LastUse(two));

        // The next batch writes both.
        clock.Advance(TimeSpan.FromSeconds(32));
        await Poll(one);
        await Flushed();
        Assert.Equal((t0.AddSeconds(122), t0.AddSeconds(90)), (LastUse(one), LastUse(two)));
    }
}
