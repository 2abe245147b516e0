using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.State;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// A changed part sent as a difference from a part the agent holds (issue 17, <c>PartDifferences=true</c>):
/// the ID lists the agent rebuilds are the server's, in the server's order; an agent that cannot
/// rebuild a part, or rebuilds one whose digest is not the server's, fetches whole and never enforces
/// it. The random-change property (an agent fed differences holds byte for byte the state of one fed
/// whole lists) is <c>HostScopeTests.AnAgentFedDifferences_HoldsTheStateOfOneFedWholeLists</c>.
/// </summary>
[Collection(PartMemoryCollection.Name)]
public sealed class PartDifferenceTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;

    public async Task InitializeAsync() => _server = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>
    /// For random lists and random edits of them (IDs removed, added at random places, re-added
    /// elsewhere, two swapped): a difference exists exactly when the kept IDs keep their order, and
    /// applied to its base it is the edited list (its slow twin: the list whole); applied to a base
    /// that lacks an ID it removes, it does not fit.
    /// </summary>
    [Fact]
    public void ADifference_AppliedToItsBase_IsThePartsList_InItsOrder()
    {
        var gen = Gen.Select(Gen.Int[0, 40].Array[0, 25], Gen.Bool.Array[25], Gen.Select(Gen.Int[0, 60], Gen.Int[0, 30]).Array[0, 6], Gen.Int[0, 3]);
        gen.Sample((raw, keep, inserts, swap) =>
        {
            var baseIds = raw.Distinct().Select(i => $"i-{i}").ToList();
            var ids = baseIds.Where((_, k) => keep[k]).ToList();
            foreach (var (value, at) in inserts)
            {
                if (!ids.Contains($"i-{value}"))
                    ids.Insert(Math.Min(at, ids.Count), $"i-{value}");
            }
            if (swap == 0 && ids.Count >= 2)
                (ids[0], ids[^1]) = (ids[^1], ids[0]);
            var difference = PartDifference.Between(baseIds, ids);
            var sameOrder = baseIds.Where(ids.Contains).SequenceEqual(ids.Where(baseIds.Contains));
            Assert.Equal(sameOrder, difference is not null);
            if (difference is null)
                return;
            var applied = PartDifference.Apply(baseIds, difference);
            Assert.Equal(ids, applied);
            Assert.Equal(ids.Count(i => !baseIds.Contains(i)) + baseIds.Count(i => !ids.Contains(i)), difference.Size);
            // A list Apply made is the next difference's base (nineteenth session: its IDs known to be each once,
            // an added ID checked against it alone): back to the base, nothing changed, an ID it holds added again.
            if (PartDifference.Between(ids, baseIds) is { } back)
                Assert.Equal(baseIds, PartDifference.Apply(applied!, back));
            Assert.Equal(ids, PartDifference.Apply(applied!, PartDifference.Lists.None));
            if (ids.Count > 0)
                Assert.Null(PartDifference.Apply(applied!, new PartDifference.Lists([], [(0, ids[^1])])));
            if (difference.Removed.Count > 0)
                Assert.Null(PartDifference.Apply([.. baseIds.Where(i => i != difference.Removed[0])], difference));
        }, iter: 2000, print: x => $"base {string.Join(",", x.Item1)}; inserts {string.Join(",", x.Item3)}; swap {x.Item4}");
    }

    /// <summary>
    /// (Twenty-second session: the added IDs of a list <see cref="PartDifference.Apply"/> made compared one by one
    /// with the result's, a set only past a few.) For a base Apply made and random differences of it — one to
    /// seven IDs added at the start, the middle or the end, new, or one the base keeps (its first, its last, one
    /// between), one it removes, or one added twice — the result is the list made naively and checked with a set
    /// of all its IDs (the slow twin): the same list, or null for both; and the same as Apply to a base not known
    /// to be Apply's (checked with a set).
    /// </summary>
    [Fact]
    public void AnAddedIdAlreadyInTheResult_DoesNotFit_WhereverItStands()
    {
        var (fitted, refused) = (0, 0);
        Gen.Int.Sample(seed =>
        {
            var random = new Random(seed);
            var size = random.Next(0, 30);
            var made = PartDifference.Apply(Array.Empty<string>(), new PartDifference.Lists([], [.. Enumerable.Range(0, size).Select(i => (i, $"i-{i}"))]))!;
            var removed = made.Where(_ => random.Next(5) == 0).ToList();
            var kept = made.Except(removed).ToList();
            var added = new List<string>();
            for (var n = random.Next(1, 8); n > 0; n--)
            {
                added.Add(random.Next(10) switch
                {
                    0 when kept.Count > 0 => kept[0],
                    1 when kept.Count > 0 => kept[^1],
                    2 when kept.Count > 0 => kept[random.Next(kept.Count)],
                    3 when removed.Count > 0 => removed[random.Next(removed.Count)],
                    4 when added.Count > 0 => added[random.Next(added.Count)],
                    _ => $"n-{random.Next(1000)}",
                });
            }
            var length = kept.Count + added.Count;
            var positions = random.Next(3) switch
            {
                0 => Enumerable.Range(0, added.Count),
                1 => Enumerable.Range(length - added.Count, added.Count),
                _ => Enumerable.Range(0, length).OrderBy(_ => random.Next()).Take(added.Count).Order(),
            };
            var difference = new PartDifference.Lists(removed, [.. positions.Zip(added)]);
            // The slow twin: the list made naively, each ID once or no list.
            var naive = new List<string>(kept);
            foreach (var (position, id) in difference.Added)
                naive.Insert(position, id);
            var expected = naive.Distinct().Count() == naive.Count ? naive : null;
            var applied = PartDifference.Apply(made, difference);
            Assert.Equal(expected, applied);
            Assert.Equal(expected, PartDifference.Apply(made.ToList(), difference));
            (fitted, refused) = applied is null ? (fitted, refused + 1) : (fitted + 1, refused);
        }, iter: 5000);
        Assert.True(fitted > 500 && refused > 500, $"{fitted} fitted, {refused} refused");
    }

    private sealed record Pod(Scenario S, string Common, string Db, string VSwitch, List<string> Members);

    /// <summary>A pod of <paramref name="hosts"/> hosts: an instance in <c>common</c> on each, <c>common</c>'s rule naming <c>db</c>, and one instance in <c>db</c>.</summary>
    private async Task<Pod> PodAsync(string name, int hosts)
    {
        var s = new Scenario(_server.Client(_server.NewAccount(name)));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var common = await s.GroupAsync(vpc, "common");
        var db = await s.GroupAsync(vpc, "db");
        await s.AuthorizeAsync(common, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceGroupId = db });
        await s.RunAsync(db, vsw);
        var members = await s.RunAsync(common, vsw, hosts);
        for (var h = 0; h < hosts; h++)
            _server.Bind(members[h], $"{name}-{h}", "vnet0");
        return new Pod(s, common, db, vsw, members);
    }

    /// <summary>An agent's client whose <c>DescribeHostPolicy</c> answers pass through <paramref name="tamper"/> (the requests' parameters are recorded).</summary>
    private (EcsClient Client, List<string> Requests) TamperedClient(string host, Func<JsonObject, bool> tamper)
    {
        var credential = _server.Hosts.CreateCredential(host);
        var handler = new Tampering(((TestServer)_server.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()).CreateHandler(), tamper);
        var http = new HttpClient(handler) { BaseAddress = _server.Http.BaseAddress };
        return (new EcsClient(http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret)), handler.Requests);
    }

    private sealed class Tampering(HttpMessageHandler inner, Func<JsonObject, bool> tamper) : DelegatingHandler(inner)
    {
        public readonly List<string> Requests = [];

        public int Tampered { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // The action: a V3 request's header, else a parameter.
            var sent = request.RequestUri!.Query + (request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
            var action = request.Headers.TryGetValues("x-acs-action", out var header) ? header.Single() : sent;
            var response = await base.SendAsync(request, cancellationToken);
            if (!action.Contains("DescribeHostPolicy", StringComparison.Ordinal))
                return response;
            Requests.Add(Uri.UnescapeDataString(sent));
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject();
            if (tamper(body))
                Tampered++;
            response.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            return response;
        }
    }

    private static IEnumerable<JsonObject> Differences(JsonObject answer) =>
        answer["Accounts"]!["Account"]!.AsArray().SelectMany(a => a!["Parts"]?["Part"]?.AsArray() ?? []).Select(p => p!.AsObject()).Where(p => p.ContainsKey("BaseDigest"));

    private static string Rendered(Palisade.Agent.Following.HostPolicy policy) => NftText.FullApply(PolicyRenderer.Render(policy.Parts, 0));

    /// <summary>
    /// A join into a group every part names sends one instance's ID (and its ENI's) with its place,
    /// not the lists; the leave after it turns the part back into the one held two fetches ago, sent
    /// as a difference from the joined part; an agent that does not ask for differences, and one
    /// whose base the node has forgotten, get the lists whole — and every agent holds the state of
    /// one fed whole lists, byte for byte.
    /// </summary>
    [Fact]
    public async Task AJoin_IsSentAsTheJoinedInstanceAndItsPlace_AndTheLeaveAsItsRemoval()
    {
        var pod = await PodAsync("diff-join", 6);
        var host = "diff-join-0";
        var api = _server.HostClient(host);
        var agent = new Palisade.Agent.Following.EcsControlPlane(api, Region);
        var whole = new Palisade.Agent.Following.EcsControlPlane(api, Region) { PartDifferences = false };
        await agent.FetchAsync(host, CancellationToken.None);
        await whole.FetchAsync(host, CancellationToken.None);
        var digests = new List<string>();

        async Task<JsonElement> AnswerAsync(bool differences)
        {
            var p = new Dictionary<string, string> { ["RegionId"] = Region, ["PerNic"] = "true", ["SharedParts"] = "true", ["KnownNic.1.InstanceId"] = pod.Members[0], ["KnownNic.1.Digest"] = digests[^1] };
            if (differences)
                p["PartDifferences"] = "true";
            return (await api.CallAsync("DescribeHostPolicy", p)).Items("Accounts", "Account").Single();
        }
        async Task<string> FetchBothAsync()
        {
            var (a, w) = (await agent.FetchAsync(host, CancellationToken.None), await whole.FetchAsync(host, CancellationToken.None));
            Assert.Equal(w.Parts.Select(p => p.Source), a.Parts.Select(p => p.Source));
            return a.Parts.Single().NicDigests![pod.Members[0]];
        }
        digests.Add(await FetchBothAsync());

        // A new instance joins db, which common's rule names: every common member's part gains it.
        var joined = (await pod.S.RunAsync(pod.Db, pod.VSwitch)).Single();
        var answer = await AnswerAsync(differences: true);
        var part = answer.Items("Parts", "Part").Single();
        Assert.Equal(digests[^1], part.Str("BaseDigest"));
        Assert.False(part.TryGetProperty("InstancesIds", out _));
        var added = part.GetProperty("InstancesIdsAdded").GetProperty("Added").EnumerateArray().ToList();
        Assert.Equal([joined], added.Select(a => a.Str("InstanceId")));
        Assert.Single(part.GetProperty("NetworkInterfacesIdsAdded").GetProperty("Added").EnumerateArray());
        Assert.False(part.TryGetProperty("InstancesIdsRemoved", out _));
        // An agent that does not say it reads differences gets the lists whole.
        var older = (await AnswerAsync(differences: false)).Items("Parts", "Part").Single();
        Assert.False(older.TryGetProperty("BaseDigest", out _));
        Assert.Equal(8, older.GetProperty("InstancesIds").GetProperty("InstanceId").GetArrayLength());
        digests.Add(await FetchBothAsync());
        Assert.Equal((1L, 0L), agent.Differences);

        // It leaves again: the part is the one held two fetches ago, sent as a difference from the joined one.
        await pod.S.Api.CallAsync("DeleteInstance", new { InstanceId = joined, Force = true });
        part = (await AnswerAsync(differences: true)).Items("Parts", "Part").Single();
        Assert.Equal(digests[0], part.Str("Digest"));
        Assert.Equal(digests[1], part.Str("BaseDigest"));
        Assert.Equal([joined], part.GetProperty("InstancesIdsRemoved").GetProperty("InstanceId").EnumerateArray().Select(i => i.GetString()));
        digests.Add(await FetchBothAsync());
        Assert.Equal(digests[0], digests[^1]);
        Assert.Equal((2L, 0L), agent.Differences);

        // A rule change in common: the lists did not change, the difference names no ID at all.
        await pod.S.AuthorizeAsync(pod.Common, new { IpProtocol = "tcp", PortRange = "8443/8443", SourceCidrIp = "198.51.100.0/24" });
        part = (await AnswerAsync(differences: true)).Items("Parts", "Part").Single();
        Assert.Equal(["Digest", "BaseDigest"], part.EnumerateObject().Select(p => p.Name));
        digests.Add(await FetchBothAsync());
        Assert.Contains("8443", Rendered(await agent.FetchAsync(host, CancellationToken.None)), StringComparison.Ordinal);

        // The node forgets what digests stand for: the lists come whole, and still make the same state.
        Palisade.Server.Actions.Hosts.PartMemory.Forget();
        await pod.S.RunAsync(pod.Db, pod.VSwitch);
        Assert.False((await AnswerAsync(differences: true)).Items("Parts", "Part").Single().TryGetProperty("BaseDigest", out _));
        await FetchBothAsync();
        Assert.Equal((0L, 0L), (agent.Differences.FetchedWholeAgain, whole.Differences.Rebuilt));
    }

    /// <summary>
    /// A difference that does not add up — an added ID dropped on the way (the rebuilt list lacks it,
    /// so the digest differs), or a base the agent does not hold — is never enforced: the agent drops
    /// what it holds and fetches whole at once (no <c>KnownNic</c>), and enforces the server's state.
    /// </summary>
    [Theory]
    [InlineData("dropped")]
    [InlineData("moved")]
    [InlineData("base")]
    public async Task ADifferenceThatDoesNotAddUp_MakesTheAgentFetchWhole(string how)
    {
        var pod = await PodAsync($"diff-tamper-{how}", 4);
        var host = $"diff-tamper-{how}-0";
        var tampering = true;
        var (client, requests) = TamperedClient(host, answer =>
        {
            if (!tampering)
                return false;
            var changed = false;
            foreach (var part in Differences(answer))
            {
                switch (how)
                {
                    case "dropped":
                        changed |= part.Remove("InstancesIdsAdded");
                        break;
                    case "moved":
                        if (part["InstancesIdsAdded"]?["Added"]?.AsArray().FirstOrDefault() is JsonObject first)
                        {
                            var position = first["Position"]!.GetValue<int>();
                            first["Position"] = position == 0 ? 1 : position - 1;
                            changed = true;
                        }
                        break;
                    case "base":
                        part["BaseDigest"] = new string('0', 32);
                        changed = true;
                        break;
                }
            }
            return changed;
        });
        var agent = new Palisade.Agent.Following.EcsControlPlane(client, Region);
        var whole = new Palisade.Agent.Following.EcsControlPlane(_server.HostClient(host), Region) { PartDifferences = false };
        await agent.FetchAsync(host, CancellationToken.None);
        await pod.S.RunAsync(pod.Db, pod.VSwitch);
        await pod.S.AuthorizeAsync(pod.Db, new { IpProtocol = "tcp", PortRange = "6443/6443", SourceCidrIp = "198.51.100.0/24" });
        requests.Clear();
        var policy = await agent.FetchAsync(host, CancellationToken.None);
        Assert.Equal((0L, 1L), agent.Differences);
        Assert.Equal(2, requests.Count);
        Assert.Contains("KnownNic.1.Digest", requests[0], StringComparison.Ordinal);
        Assert.DoesNotContain("KnownNic", requests[1], StringComparison.Ordinal);
        var expected = await whole.FetchAsync(host, CancellationToken.None);
        Assert.Equal(expected.Parts.Select(p => p.Source), policy.Parts.Select(p => p.Source));
        Assert.Equal(Rendered(expected), Rendered(policy));

        // Untampered, the next change is rebuilt from a difference again.
        tampering = false;
        await pod.S.RunAsync(pod.Db, pod.VSwitch);
        policy = await agent.FetchAsync(host, CancellationToken.None);
        Assert.Equal((1L, 1L), agent.Differences);
        Assert.Equal((await whole.FetchAsync(host, CancellationToken.None)).Parts.Select(p => p.Source), policy.Parts.Select(p => p.Source));
    }
}
