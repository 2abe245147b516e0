using System.Globalization;
using CsCheck;
using System.Text.Json;
using System.Text.Json.Nodes;
using Palisade.Agent.Following;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The wake carries the policy (issue 17, eighteenth session): a host's <c>DescribeChanges</c> with
/// <c>IncludeHostPolicy=true</c> and the fetch's parameters answers, when it has changes, with the
/// host's policy as <c>DescribeHostPolicy</c> answers the same parameters at the same revision.
/// </summary>
public sealed partial class HostScopeTests
{
    /// <summary>
    /// Over random states and commits of two tenants on four hosts (rules, joins, bindings, ENIs, runs,
    /// lists), each host polling as its agent does — from the revision of its last policy, with the digests
    /// it gave, with or without differences, now and then a full fetch (no digests) or the whole form
    /// (<c>PerNic</c> off) — parked before the change (woken by it, or answered from the ledger) or asking
    /// after it: a poll with changes carries <c>HostPolicy</c>, and it is byte for byte
    /// <c>DescribeHostPolicy</c>'s answer to the same parameters right after (no commit between: the same
    /// revision); a poll without changes carries none.
    /// </summary>
    [Theory]
    [InlineData(18)]
    [InlineData(1812)]
    public async Task AWokenPollsPolicy_IsTheFetchsAnswer_AtTheSameRevision(int seed)
    {
        var random = new Random(seed);
        var worlds = new List<World>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = _server.NewAccount($"wake-{seed}-{name}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            worlds.Add(world);
        }
        var apis = Hosts.ToDictionary(h => h, h => _server.HostClient(h));
        // Each host's agent: the revision of its last policy and the digests it gave.
        var revisions = Hosts.ToDictionary(h => h, _ => 0L);
        var known = Hosts.ToDictionary(h => h, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        var (carried, parkedCarried, quiet, earlier) = (0, 0, 0, 0);
        for (var step = 0; step < 24; step++)
        {
            var parameters = Hosts.ToDictionary(h => h, h => FetchParameters(known[h], random));
            var parked = random.Next(3) == 0;
            using var cancelParked = new CancellationTokenSource();
            var polls = parked
                ? Hosts.ToDictionary(h => h, h => apis[h].CallAsync("DescribeChanges", Poll(revisions[h], 30, parameters[h]), cancel: cancelParked.Token))
                : null;
            if (parked)
                await WaitUntilParkedAsync(Hosts.Length);
            string what;
            try
            {
                what = step == 0 ? "first" : await ChangeAsync(_server, worlds[random.Next(worlds.Count)], random);
            }
            catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
            {
                what = "refused";
            }
            foreach (var host in Hosts)
            {
                // The truth of whether the host has a change: the plain poll, answering at once.
                var changed = await WokenAsync(apis[host], revisions[host]);
                var woken = polls is not null && changed;
                while (true)
                {
                    var answer = woken ? await polls![host] : await apis[host].CallAsync("DescribeChanges", Poll(revisions[host], 0, parameters[host]));
                    woken = false;
                    if (!answer.Items("Changes", "Change").Any())
                    {
                        Assert.False(answer.TryGetProperty("HostPolicy", out _), $"seed {seed}, step {step} ({what}): {host}'s poll without changes carried a policy");
                        quiet++;
                        break;
                    }
                    Assert.True(answer.TryGetProperty("HostPolicy", out var policy), $"seed {seed}, step {step} ({what}): {host}'s poll with changes carried no policy");
                    var revision = policy.GetProperty("Revision").GetInt64();
                    Assert.True(revision >= answer.GetProperty("NextRevision").GetInt64(), $"seed {seed}, step {step}: {host}'s policy is older than the changes its wake names");
                    var fetched = await apis[host].CallAsync("DescribeHostPolicy", parameters[host]);
                    if (fetched.GetProperty("Revision").GetInt64() == revision)
                    {
                        var (carriedJson, fetchedJson) = (Canonical(policy), Canonical(fetched));
                        Assert.True(carriedJson == fetchedJson, $"seed {seed}, step {step} ({what}{(polls is not null ? ", parked" : "")}): {host}'s policy with the wake is not the fetch's answer:\n{carriedJson}\n{fetchedJson}");
                        carried++;
                        parkedCarried += polls is not null ? 1 : 0;
                    }
                    else
                    {
                        // Woken by the first commit of a change of two (an instance run, then bound): the policy at
                        // that commit, which the fetch can no longer answer; the agent's next poll, from it, has the second.
                        Assert.True(fetched.GetProperty("Revision").GetInt64() > revision);
                        earlier++;
                    }
                    revisions[host] = revision;
                    known[host].Clear();
                    foreach (var account in policy.Items("Accounts", "Account"))
                    {
                        if (account.TryGetProperty("Nics", out var nics))
                        {
                            foreach (var nic in nics.GetProperty("Nic").EnumerateArray())
                                known[host][nic.GetProperty("InstanceId").GetString()!] = nic.GetProperty("Digest").GetString()!;
                        }
                    }
                    parameters[host] = FetchParameters(known[host], random);
                }
            }
            // The polls no change woke: ended by the client.
            if (polls is not null)
            {
                await cancelParked.CancelAsync();
                foreach (var poll in polls.Values)
                    await poll.ContinueWith(_ => { });
            }
        }
        output.WriteLine($"seed {seed}: {carried} policies carried by wakes ({parkedCarried} by parked polls woken), each the fetch's answer; {earlier} at the first commit of a change of two; {quiet} polls without changes carried none");
        Assert.True(parkedCarried > 0, "no parked poll was woken with a policy: the wake was not exercised");

        static Dictionary<string, string> Poll(long after, int wait, Dictionary<string, string> fetch) =>
            new(fetch) { ["AfterRevision"] = after.ToString(CultureInfo.InvariantCulture), ["WaitSeconds"] = wait.ToString(CultureInfo.InvariantCulture), ["IncludeHostPolicy"] = "true" };
    }

    /// <summary>
    /// The agent's side (<see cref="EcsControlPlane.WaitForPolicyAsync"/>): over random states and change
    /// sequences, with the node forgetting what digests stand for now and then, a host's agent that reads
    /// its policy from the wake holds byte for byte the state — and renders the ruleset — of one that
    /// fetches after each wake (its slow twin, <c>PolicyWithWake=false</c>), and of one whose server answers
    /// without the extension (the <c>HostPolicy</c> element taken out of every answer): that one is told
    /// of each change by a bare wake and fetches, as before. Twentieth session: and of one that reads each
    /// answer as a string and its <c>State</c> parsed again (<c>ReadsAnswerOnce=false</c>, the slow twin of
    /// the answer parsed once from its bytes), woken with its policy as often.
    /// </summary>
    [Fact]
    public async Task AnAgentReadingItsPolicyFromTheWake_HoldsWhatItsFetchWouldGive_AndFetchesWithoutTheExtension()
    {
        var round = 0;
        var (carried, bare) = (0L, 0L);
        var gen = Gen.Select(Gen.Int, Gen.Int[0, 7]).Array[2, 8];
        await gen.SampleAsync(async steps =>
        {
            round++;
            var random = new Random(steps[0].Item1);
            var key = _server.NewAccount($"wake-agents-{round}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            using var older = new HttpClient(new WithoutTheExtension(_server.Http)) { BaseAddress = _server.Http.BaseAddress };
            foreach (var host in Hosts)
            {
                var credential = _server.Hosts.CreateCredential(host);
                var secret = new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret);
                var agents = new (string Name, EcsControlPlane Plane)[]
                {
                    ("wake", new EcsControlPlane(new EcsClient(_server.Http, secret), Region)),
                    ("fetch after the wake", new EcsControlPlane(new EcsClient(_server.Http, secret), Region) { PolicyWithWake = false }),
                    ("server without the extension", new EcsControlPlane(new EcsClient(older, secret), Region)),
                    // (Twentieth session) the answer read as a string and its State parsed again: the slow twin of the read once.
                    ("answer read twice", new EcsControlPlane(new EcsClient(_server.Http, secret), Region) { ReadsAnswerOnce = false }),
                };
                _policies[host] = [];
                foreach (var (name, plane) in agents)
                    _policies[host].Add(await plane.FetchAsync(host, CancellationToken.None));
                _agents[host] = agents;
            }
            foreach (var (seed, forget) in steps)
            {
                try
                {
                    await ChangeAsync(_server, world, new Random(seed));
                }
                catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
                {
                    // A refused change changed nothing.
                }
                if (forget == 0)
                    Palisade.Server.Actions.Hosts.PartMemory.Forget();
                foreach (var host in Hosts)
                {
                    var agents = _agents[host];
                    var wakes = new List<bool>();
                    for (var a = 0; a < agents.Length; a++)
                    {
                        var wake = await agents[a].Plane.WaitForPolicyAsync(host, _policies[host][a].Revision, TimeSpan.Zero, CancellationToken.None);
                        wakes.Add(wake.Changed);
                        if (wake.Changed)
                            _policies[host][a] = wake.Policy ?? await agents[a].Plane.FetchAsync(host, CancellationToken.None);
                    }
                    Assert.True(wakes.Distinct().Count() == 1, $"round {round}, {host}: the agents' polls disagree on whether a change came");
                    var first = _policies[host][0];
                    for (var a = 1; a < agents.Length; a++)
                    {
                        var other = _policies[host][a];
                        Assert.Equal(first.Revision, other.Revision);
                        Assert.True(first.Parts.Select(p => p.Source).SequenceEqual(other.Parts.Select(p => p.Source))
                            && first.Parts.Select(SourceItems).SequenceEqual(other.Parts.Select(SourceItems)),
                            $"round {round}, {host}: the state read from the wake is not the state of the agent '{agents[a].Name}'");
                        Assert.Equal(NftText.FullApply(PolicyRenderer.Render(other.Parts, 0)), NftText.FullApply(PolicyRenderer.Render(first.Parts, 0)));
                    }
                }
            }
            foreach (var host in Hosts)
            {
                var agents = _agents[host];
                carried += agents[0].Plane.Wakes.Carried;
                Assert.Equal(0L, agents[0].Plane.Wakes.Bare);
                Assert.Equal((0L, 0L), agents[1].Plane.Wakes);
                Assert.Equal(0L, agents[2].Plane.Wakes.Carried);
                bare += agents[2].Plane.Wakes.Bare;
                Assert.Equal(0L, agents[0].Plane.Differences.FetchedWholeAgain);
                Assert.Equal(agents[0].Plane.Wakes, agents[3].Plane.Wakes);
                Assert.Equal(0L, agents[3].Plane.Differences.FetchedWholeAgain);
            }
        }, iter: 6, threads: 1, print: steps => string.Join(" ", steps.Select(s => $"({s.Item1},{s.Item2})")));
        output.WriteLine($"{round} rounds: {carried} policies read from wakes, {bare} bare wakes (no extension) followed by a fetch");
        Assert.True(carried > 0 && bare > 0, "the wakes were not exercised");
    }

    /// <summary>
    /// A poll that asks for its policy with the wake has the fetch's parameters checked at its arrival, by
    /// the fetch's code: bad ones are refused at once (nothing parks, nothing is written); an account's key
    /// may not ask (the policy is the host credential's).
    /// </summary>
    [Fact]
    public async Task APollAskingForItsPolicy_HasItsParametersChecked_AtItsArrival()
    {
        var tenant = _server.Client(_server.NewAccount("wake-edge"));
        var host = _server.HostClient("node-1");
        var revision = _server.Store.CurrentRevision();
        var after = revision.ToString(CultureInfo.InvariantCulture);
        Dictionary<string, string> Poll(params (string Key, string Value)[] more)
        {
            var p = new Dictionary<string, string> { ["AfterRevision"] = after, ["WaitSeconds"] = "60", ["IncludeHostPolicy"] = "true", ["RegionId"] = Region };
            foreach (var (k, v) in more)
                p[k] = v;
            return p;
        }
        await ApiAssert.FailsAsync(() => tenant.CallAsync("DescribeChanges", Poll()), "Forbidden.HostCredentialRequired", 403);
        // Digests without PerNic; a digest that is none; a digest without its instance; differences without SharedParts; no region.
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", Poll(("KnownNic.1.InstanceId", "i-bp1aaaaaaaaaaaaaaaaa"), ("KnownNic.1.Digest", new string('0', 32)))), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", Poll(("PerNic", "true"), ("KnownNic.1.InstanceId", "i-bp1aaaaaaaaaaaaaaaaa"), ("KnownNic.1.Digest", "not-a-digest"))), "InvalidParameter", 400);
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", Poll(("PerNic", "true"), ("KnownNic.1.Digest", new string('0', 32)))), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", Poll(("PerNic", "true"), ("PartDifferences", "true"))), "InvalidParameter", 400);
        var noRegion = Poll(("PerNic", "true"));
        noRegion.Remove("RegionId");
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", noRegion), "MissingParameter.RegionId", 400);
        Assert.Equal(0, _server.Store.Commits.ParkedCount);
        Assert.Equal(revision, _server.Store.CurrentRevision());
        // Without the flag the same parameters are ignored (ECS ignores unknown parameters), as before.
        var plain = Poll(("KnownNic.1.Digest", "not-a-digest"));
        plain.Remove("IncludeHostPolicy");
        plain["WaitSeconds"] = "0";
        Assert.False((await host.CallAsync("DescribeChanges", plain)).TryGetProperty("HostPolicy", out _));
    }

    private readonly Dictionary<string, (string Name, EcsControlPlane Plane)[]> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<HostPolicy>> _policies = new(StringComparer.Ordinal);

    /// <summary>A server that does not know <c>IncludeHostPolicy</c> (it ignores the parameter, as ECS ignores unknown ones): its answers carry no <c>HostPolicy</c>.</summary>
    private sealed class WithoutTheExtension(HttpClient server) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
        {
            // A copy: the message was sent already (by the agent's client, to this handler).
            using var copy = new HttpRequestMessage(request.Method, request.RequestUri);
            foreach (var header in request.Headers)
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            if (request.Content is { } content)
            {
                copy.Content = new ByteArrayContent(await content.ReadAsByteArrayAsync(cancel));
                foreach (var header in content.Headers)
                    copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            var response = await server.SendAsync(copy, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            if (JsonNode.Parse(text) is JsonObject answer && answer.Remove("HostPolicy"))
                response.Content = new StringContent(answer.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            return response;
        }
    }

    /// <summary>A fetch's parameters as an agent sends them: mostly incremental with the digests held, now and then a full or the whole form.</summary>
    private static Dictionary<string, string> FetchParameters(Dictionary<string, string> known, Random random)
    {
        var p = new Dictionary<string, string> { ["RegionId"] = Region };
        if (random.Next(8) == 0)
            return p;
        p["PerNic"] = "true";
        p["SharedParts"] = "true";
        if (random.Next(3) != 0)
            p["PartDifferences"] = "true";
        if (random.Next(6) == 0)
            return p;
        var n = 0;
        foreach (var (instance, digest) in known)
        {
            n++;
            p[$"KnownNic.{n}.InstanceId"] = instance;
            p[$"KnownNic.{n}.Digest"] = digest;
        }
        return p;
    }

    /// <summary>An answer's JSON without its <c>RequestId</c>.</summary>
    private static string Canonical(JsonElement e)
    {
        var node = JsonNode.Parse(e.GetRawText())!.AsObject();
        node.Remove("RequestId");
        return node.ToJsonString();
    }
}
