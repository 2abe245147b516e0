using System.Globalization;
using System.Text.Json;
using CsCheck;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.State;
using Palisade.Server.Tests.Support;
using Palisade.Storage;
using Palisade.TestKit;
using Xunit.Abstractions;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The host-scoped feed (issue 17, item 2) on hosts that carry NICs of several accounts (issue 18):
/// which hosts a change wakes. The truth is the slow, obviously correct twin — every host's ruleset
/// rendered from the whole accounts before and after the change, as its agent would render it —
/// and the fast answer (what the store decided at commit, read through the host credential's
/// <c>DescribeChanges</c>) must never be narrower than it: every host whose rendered ruleset differs
/// is woken. How often a host is woken for nothing is counted and reported.
/// </summary>
[Collection(PartMemoryCollection.Name)]
public sealed partial class HostScopeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestControlPlane _server = null!;

    public async Task InitializeAsync() => _server = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>
    /// The seeds of a random-state theory: all three on SQLite, the first alone on PostgreSQL. The
    /// properties are over the server's logic, which both stores feed alike; the second run is for the
    /// store's own paths (its reads, its notifications), which one seed exercises, and CI's time is
    /// kept for it (the API suite on PostgreSQL is one of its two longest lanes).
    /// </summary>
    public static TheoryData<int> Seeds(int first, int second, int third) =>
        TestStores.OnPostgres ? [first] : [first, second, third];

    private static readonly string[] Hosts = ["node-1", "node-2", "node-3", "node-4"];

    /// <summary>
    /// Every host's ruleset rendered from the whole accounts (revision left out: only what the kernel
    /// would enforce), each account's NICs against its own state, in the agent's order of accounts.
    /// </summary>
    private async Task<Dictionary<string, string>> RenderEveryHostAsync(IReadOnlyList<(long Account, EcsClient Api)> accounts)
    {
        var states = new Dictionary<long, NetworkState>();
        foreach (var (account, api) in accounts)
            states[account] = StateFileReader.Read((await api.CallAsync("ExportSecurityState", new { RegionId = Region })).GetProperty("State").GetRawText());
        var bindings = _server.Hosts.ListBindings(null);
        return Hosts.ToDictionary(h => h, h => NftText.FullApply(PolicyRenderer.Render(
            [.. bindings.Where(b => b.HostName == h).GroupBy(b => b.AccountId).OrderBy(g => g.Key)
                .Select(g => new HostPart(states[g.Key], [.. g.Select(b => new HostBinding(b.InstanceId, b.InterfaceName))]))], 0)));
    }

    private static async Task<bool> WokenAsync(EcsClient hostApi, long after)
    {
        var changes = await hostApi.CallAsync("DescribeChanges", new { AfterRevision = after.ToString(CultureInfo.InvariantCulture) });
        return changes.Items("Changes", "Change").Any();
    }

    /// <summary>The accounts with a NIC on each host now: what the issue-18 feed (every change of such an account) woke on.</summary>
    private Dictionary<string, HashSet<long>> AccountsOnHosts() =>
        Hosts.ToDictionary(h => h, h => _server.Hosts.ListBindings(h).Select(b => b.AccountId).ToHashSet());

    /// <summary>A random account: groups with rules naming CIDRs, each other, prefix and port-range lists; instances in 1–2 groups; most bound by the operator to one of four shared hosts.</summary>
    private sealed class World(Scenario s, TestControlPlane server, long account, Random random)
    {
        /// <summary>Makes the next changes through another node of the same store (its API and its operator's acts).</summary>
        public void Via(Scenario other, TestControlPlane node) => (s, server) = (other, node);

        public long Account => account;

        /// <summary>The account's scenarios on the first and the second node.</summary>
        public (Scenario First, Scenario Second) Tag;
        public Scenario Scenario => s;
        public readonly List<string> Groups = [];
        public readonly List<string> Instances = [];
        public readonly List<string> PrefixLists = [];
        public readonly List<string> PortRangeLists = [];
        public readonly List<string> Enis = [];
        public string VSwitch = "";
        public string Vpc = "";

        /// <summary>The groups <see cref="GroupChangeAsync"/> made (most never get a member: they may be deleted).</summary>
        public readonly List<string> Made = [];
        private int _cidr;

        public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

        public async Task BuildAsync()
        {
            var vpc = Vpc = await s.VpcAsync();
            VSwitch = await s.VSwitchAsync(vpc);
            for (var g = 0; g < 4; g++)
                Groups.Add(await s.GroupAsync(vpc, $"g{g}"));
            for (var l = 0; l < 2; l++)
            {
                PrefixLists.Add((await s.Api.CallAsync("CreatePrefixList", new { RegionId = Region, AddressFamily = "IPv4", MaxEntries = 20, PrefixListName = $"pl{l}", Entry = new[] { new { Cidr = NextCidr() } } })).Str("PrefixListId"));
            }
            PortRangeLists.Add((await s.Api.CallAsync("CreatePortRangeList", new { RegionId = Region, MaxEntries = 20, PortRangeListName = "prl", Entry = new[] { new { PortRange = "8000/8001" } } })).Str("PortRangeListId"));
            for (var i = 0; i < 8; i++)
                await RunAsync();
            for (var r = 0; r < 8; r++)
                await AuthorizeAsync();
        }

        public string NextCidr() => $"10.{++_cidr % 250}.{random.Next(250)}.0/24";

        public async Task RunAsync()
        {
            var instance = (await s.RunAsync(Pick(Groups), VSwitch)).Single();
            Instances.Add(instance);
            if (random.Next(2) == 0)
                await s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = Pick(Groups) }).ContinueWith(_ => { });
            if (random.Next(4) != 0)
                await BindAsync(instance);
        }

        /// <summary>The operator binds (issue 18); an interface name of the instance's own, so two accounts never collide on one.</summary>
        public Task BindAsync(string instance)
        {
            server.Bind(instance, Pick(Hosts), "v" + instance[^8..]);
            return Task.CompletedTask;
        }

        public Task AuthorizeAsync()
        {
            var port = random.Next(1, 2000).ToString(CultureInfo.InvariantCulture);
            var group = Pick(Groups);
            var egress = random.Next(4) == 0;
            var peer = egress ? "Dest" : "Source";
            var others = Groups.Where(g => g != group).ToList();
            var rule = new Dictionary<string, string> { ["RegionId"] = Region, ["SecurityGroupId"] = group, ["IpProtocol"] = "tcp", ["PortRange"] = $"{port}/{port}" };
            switch (random.Next(5))
            {
                case 0:
                    rule[peer + "CidrIp"] = NextCidr();
                    break;
                case 1:
                case 2:
                    rule[peer + "GroupId"] = Pick(others);
                    break;
                case 3:
                    rule[peer + "PrefixListId"] = Pick(PrefixLists);
                    break;
                default:
                    rule.Remove("PortRange");
                    rule["PortRangeListId"] = Pick(PortRangeLists);
                    rule[peer + "GroupId"] = Pick(others);
                    break;
            }
            return s.Api.CallAsync(egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroup", rule);
        }
    }

    /// <summary>
    /// The host fetch served from the node's memory (issue 17, fourteenth session) against its slow twin,
    /// the store read (<c>DescribeHostPolicy.FromStore</c>, what every fetch did before): over random
    /// states and commits of two tenants on four hosts — some made through a second node (which this
    /// node's watcher learns of only by looking), some while this node's notifications are dropped, a
    /// credential rotated now and then, the node's memory forgotten now and then (a node just started)
    /// — each host fetched at random (so what the node holds is one or several commits old), the
    /// answer from memory is byte for byte the store's at the same revision, or there is none and the
    /// fetch reads the store. The rate served from memory is reported.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds), 14, 1405, 20261205)]
    public async Task AFetchServedFromMemory_IsTheStoreReadsAnswer_OrReadsTheStore(int seed)
    {
        var random = new Random(seed);
        await using var second = await TestControlPlane.StartAsync(sameStoreAs: _server);
        var worlds = new List<World>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = _server.NewAccount($"memory-{seed}-{name}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            worlds.Add(world);
            world.Tag = (new Scenario(_server.Client(key)), new Scenario(second.Client(key)));
        }
        var store = _server.Store;
        var (views, memory, watcher) = (Palisade.Server.Actions.Hosts.AccountViews.Of(store), Palisade.Server.Actions.Hosts.HostFetches.Of(store), store.Commits);
        var credentials = Hosts.ToDictionary(h => h, h => _server.Hosts.CreateCredential(h).AccessKeyId);
        var known = Hosts.ToDictionary(h => h, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        var (served, read, refused, loaded, between) = (0, 0, 0, 0, 0);
        try
        {
            for (var step = 0; step < 40; step++)
            {
                watcher.DropSignals = random.Next(4) == 0;
                var w = worlds[random.Next(worlds.Count)];
                var throughSecond = random.Next(3) == 0;
                w.Via(throughSecond ? w.Tag.Second : w.Tag.First, throughSecond ? second : _server);
                string what;
                try
                {
                    what = random.Next(12) == 0 ? "rotate" : await ChangeAsync(throughSecond ? second : _server, w, random);
                }
                catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
                {
                    // A random change refused (leaving a group one is not in, a limit): it changed nothing; the hosts are fetched all the same.
                    what = "refused";
                }
                if (what == "rotate")
                {
                    var host = Hosts[random.Next(Hosts.Length)];
                    var old = credentials[host];
                    credentials[host] = (throughSecond ? second : _server).Hosts.RotateCredential(host).Credential.AccessKeyId;
                    Assert.True(await watcher.LookedAfterAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
                    var stale = Query(host, old, random.Next(2) == 0);
                    Assert.Null(Palisade.Server.Actions.Hosts.DescribeHostPolicy.FromMemory(watcher.Ledger, views, memory, stale));
                    var e = Assert.Throws<Palisade.Domain.Errors.EcsException>(() => store.Read(s => Palisade.Server.Actions.Hosts.DescribeHostPolicy.FromStore(s, views, memory, stale)));
                    Assert.Equal(Palisade.Domain.Errors.EcsErrors.AccessKeyNotFound().Code, e.Error.Code);
                    refused++;
                }
                if (random.Next(10) == 0)
                    memory.Forget();
                foreach (var host in Hosts.Where(_ => random.Next(3) != 0))
                {
                    Assert.True(await watcher.LookedAfterAsync(TimeSpan.FromSeconds(10), CancellationToken.None), "the watcher's look");
                    var q = Query(host, credentials[host], random.Next(2) == 0);
                    var fromMemory = Palisade.Server.Actions.Hosts.DescribeHostPolicy.FromMemory(watcher.Ledger, views, memory, q, out var missing);
                    // A view not loaded at the revision the answer needs: loaded by one read (as the first fetch after a change does), then from memory.
                    if (fromMemory is null && missing is { } view && random.Next(4) != 0)
                    {
                        // Now and then the account commits again before the load: the load must not keep a newer state as the revision asked for.
                        if (random.Next(4) == 0)
                        {
                            try
                            {
                                await ChangeAsync(_server, worlds.Single(x => x.Account == view.Account), random);
                                between++;
                            }
                            catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
                            {
                            }
                        }
                        if (store.Read(s => Palisade.Server.Actions.Hosts.DescribeHostPolicy.LoadView(s, views, view.Account, Region, view.Revision)))
                        {
                            fromMemory = Palisade.Server.Actions.Hosts.DescribeHostPolicy.FromMemory(watcher.Ledger, views, memory, q);
                            loaded++;
                        }
                    }
                    var fromStore = store.Read(s => Palisade.Server.Actions.Hosts.DescribeHostPolicy.FromStore(s, views, memory, q));
                    var storeJson = System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(fromStore));
                    if (fromMemory is null)
                        read++;
                    else
                    {
                        served++;
                        var memoryJson = System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(fromMemory));
                        Assert.True(memoryJson == storeJson, $"seed {seed}, step {step} ({what}{(throughSecond ? ", second node" : "")}): {host}'s answer from memory differs from the store's:\n{memoryJson}\n{storeJson}");
                    }
                    using var document = JsonDocument.Parse(storeJson);
                    foreach (var account in document.RootElement.GetProperty("Accounts").GetProperty("Account").EnumerateArray())
                    {
                        foreach (var nic in account.GetProperty("Nics").GetProperty("Nic").EnumerateArray())
                            known[host][nic.GetProperty("InstanceId").GetString()!] = nic.GetProperty("Digest").GetString()!;
                    }
                }
            }
        }
        finally
        {
            watcher.DropSignals = false;
        }
        output.WriteLine($"seed {seed}: {served} answers from memory, each the store's; {read} read the store (nothing held yet, a view not loaded, a credential or binding changed, memory forgotten); {loaded} after loading the view they needed ({between} times the account committed before the load); {refused} rotated credentials refused from memory and store");
        Assert.True(served * 3 >= served + read, $"served from memory {served}, read the store {read}");

        Palisade.Server.Actions.Hosts.DescribeHostPolicy.Query Query(string host, string credential, bool differences) =>
            new(host, Region, credential, PerNic: true, SharedParts: true, Differences: differences, new Dictionary<string, string>(known[host], StringComparer.Ordinal));
    }

    /// <summary>
    /// The account's view brought forward by the commit (issue 17, fifteenth session) against its slow twin,
    /// the view loaded whole at the same revision (<c>AccountViews.Whole</c>): over random commits of two
    /// tenants (rules added and revoked, joins and leaves of instances and ENIs, inner access, bindings,
    /// instances run and deleted, ENIs attached, lists — some through a second node, whose commits this
    /// node does not know the changes of), the view asked for now and then (so some are brought forward
    /// over several commits), every instance's part has the same digest and entry, and every resource in
    /// it the same rendering, byte for byte, and every host the same bindings. How many were brought
    /// forward is reported, and must be some.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds), 15, 1505, 20261205)]
    public async Task AViewBroughtForward_AnswersAsTheWholeReload(int seed)
    {
        var random = new Random(seed);
        await using var second = await TestControlPlane.StartAsync(sameStoreAs: _server);
        var worlds = new List<World>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = _server.NewAccount($"forward-{seed}-{name}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            worlds.Add(world);
            world.Tag = (new Scenario(_server.Client(key)), new Scenario(second.Client(key)));
        }
        var store = _server.Store;
        var views = Palisade.Server.Actions.Hosts.AccountViews.Of(store);
        foreach (var w in worlds)
            store.Read(s => views.Get(s, w.Account, Region, s.LatestRevision(w.Account)));
        var (forwards, compared, stepped) = (views.Forwards, 0, Palisade.Server.Actions.Hosts.AccountViews.View.Indexes.Stepped);
        var partsKept = Palisade.Server.Actions.Hosts.AccountViews.View.PartsKept;
        var renderingSteps = Palisade.Server.Actions.Hosts.AccountViews.View.RenderingSteps;
        // Few layers, so that the renderings are copied into one table now and then too (either way is correct for other tests meanwhile).
        var maxLayers = Palisade.Server.Actions.Hosts.AccountViews.View.MaxLayers;
        Palisade.Server.Actions.Hosts.AccountViews.View.MaxLayers = 2;
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        var broughtOver = new Dictionary<string, int>(StringComparer.Ordinal);
        var pending = worlds.ToDictionary(w => w.Account, _ => new List<string>());
        for (var step = 0; step < 100; step++)
        {
            var w = worlds[random.Next(worlds.Count)];
            var throughSecond = random.Next(5) == 0;
            w.Via(throughSecond ? w.Tag.Second : w.Tag.First, throughSecond ? second : _server);
            string what;
            try
            {
                // Seventeenth session: groups made, renamed and deleted are brought forward too.
                what = random.Next(5) == 0 ? await GroupChangeAsync(w, random) : await ChangeAsync(throughSecond ? second : _server, w, random);
            }
            catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
            {
                what = "refused";
            }
            kinds[what] = kinds.GetValueOrDefault(what) + 1;
            pending[w.Account].Add(what);
            // Now and then no view is asked for: the next is brought forward over several commits.
            if (random.Next(3) == 0)
                continue;
            // Now and then a view is brought forward and no part asked of it (nineteenth session): the renderings
            // the step left out are then not made again in it, and a later step that copies the layers must leave them out.
            if (random.Next(4) == 0)
            {
                foreach (var world in worlds)
                    store.Read(s => views.Get(s, world.Account, Region, s.LatestRevision(world.Account)));
                continue;
            }
            foreach (var world in worlds)
            {
                var before = views.Forwards;
                compared += store.Read(s => CompareWithTheWholeReload(s, views, world.Account, $"seed {seed}, step {step} ({what}{(throughSecond ? ", second node" : "")})"));
                // The kinds of commit a view was brought forward over (those of the second node are not known: never).
                if (views.Forwards > before)
                {
                    foreach (var kind in pending[world.Account])
                        broughtOver[kind] = broughtOver.GetValueOrDefault(kind) + 1;
                }
                pending[world.Account].Clear();
            }
        }
        Palisade.Server.Actions.Hosts.AccountViews.View.MaxLayers = maxLayers;
        var forwarded = views.Forwards - forwards;
        var steppedNow = Palisade.Server.Actions.Hosts.AccountViews.View.Indexes.Stepped - stepped;
        output.WriteLine($"seed {seed}: {compared} views compared with the whole reload, {forwarded} of them brought forward, {steppedNow} with their indexes stepped; changes: {string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}");
        output.WriteLine($"brought forward over: {string.Join(", ", broughtOver.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}");
        // Nineteenth session: the parts no commit touched are kept from the previous view (each compared above with the whole reload's).
        var keptNow = Palisade.Server.Actions.Hosts.AccountViews.View.PartsKept - partsKept;
        output.WriteLine($"parts kept from the previous view: {keptNow}");
        Assert.True(forwarded > 0, "no view was brought forward");
        Assert.True(keptNow > 0, "no part was kept from a previous view");
        // Nineteenth session: views read the previous view's renderings through, and every MaxLayers steps copy them into one table.
        var (layered, copied) = Palisade.Server.Actions.Hosts.AccountViews.View.RenderingSteps;
        output.WriteLine($"renderings read through {layered - renderingSteps.Layered} times, copied {copied - renderingSteps.Copied} times");
        Assert.True(layered > renderingSteps.Layered && copied > renderingSteps.Copied, "the renderings were not both read through and copied");
        // Sixteenth session: instances run and deleted and bindings made and undone are brought forward too.
        Assert.True(broughtOver.Keys.Count(k => k is "run instance" or "run two tagged" or "delete instance" or "bind" or "unbind") >= 4,
            $"instances run or deleted and bindings made or undone were hardly brought forward: {string.Join(", ", broughtOver.Keys)}");
        // Seventeenth session: the indexes stepped, not built again, and groups made, renamed and deleted brought forward.
        Assert.True(steppedNow > 0, "no view's indexes were stepped");
        Assert.True(broughtOver.Keys.Count(k => k is "group made" or "group made, tagged" or "group renamed" or "group deleted") >= 3,
            $"groups made, renamed and deleted were hardly brought forward: {string.Join(", ", broughtOver.Keys)}");
    }

    /// <summary>A group made (now and then tagged), renamed, or deleted (one made here, which most often has no member yet; else refused).</summary>
    private static async Task<string> GroupChangeAsync(World w, Random random)
    {
        var api = w.Scenario.Api;
        switch (random.Next(4))
        {
            case 0:
            case 1:
            {
                var tagged = random.Next(2) == 0;
                var made = (await api.CallAsync("CreateSecurityGroup", tagged
                    ? new { RegionId = Region, VpcId = w.Vpc, SecurityGroupName = "made" + random.Next(1000), Tag = new[] { new { Key = "team", Value = "t" + random.Next(10) } } }
                    : (object)new { RegionId = Region, VpcId = w.Vpc, SecurityGroupName = "made" + random.Next(1000) })).Str("SecurityGroupId");
                w.Groups.Add(made);
                w.Made.Add(made);
                return tagged ? "group made, tagged" : "group made";
            }
            case 2:
                await api.CallAsync("ModifySecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = w.Pick(w.Groups), SecurityGroupName = "renamed" + random.Next(1000), Description = "d" + random.Next(1000) });
                return "group renamed";
            default:
            {
                if (w.Made.Count == 0)
                    return "group deleted (none)";
                var group = w.Pick(w.Made);
                await api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = group });
                w.Made.Remove(group);
                w.Groups.Remove(group);
                return "group deleted";
            }
        }
    }

    /// <summary>
    /// The answer's <c>State</c> shared across hosts (issue 17, sixteenth session) against its slow twin, each
    /// answer rendering its own (<c>AddParts(shareState: false)</c>): over random commits of two tenants, each
    /// view asked by random hosts' questions — random NICs of the account, each named by a digest an earlier
    /// answer gave (remembered, so its resources are left out), by one never given, or not at all — each
    /// question asked twice among the others in a random order, so that most are answered from another
    /// answer's rendering: every answer the same JSON, byte for byte, as the one rendered alone.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds), 16, 1606, 20261205)]
    public async Task TheStateSharedAcrossHosts_IsEachHostsOwnRendering(int seed)
    {
        var random = new Random(seed);
        var worlds = new List<World>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = _server.NewAccount($"shared-{seed}-{name}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            worlds.Add(world);
        }
        var store = _server.Store;
        var views = Palisade.Server.Actions.Hosts.AccountViews.Of(store);
        var given = new List<string>();
        var (compared, shared) = (0, Palisade.Server.Actions.Hosts.AccountViews.View.States.Shared);
        for (var step = 0; step < 40; step++)
        {
            var w = worlds[random.Next(worlds.Count)];
            string what;
            try
            {
                what = await ChangeAsync(_server, w, random);
            }
            catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
            {
                what = "refused";
            }
            foreach (var world in worlds)
            {
                compared += store.Read(s =>
                {
                    var view = views.Get(s, world.Account, Region, s.LatestRevision(world.Account));
                    var instances = view.Source(s).Instances.Select(i => i.Id).ToList();
                    if (instances.Count == 0)
                        return 0;
                    var questions = Enumerable.Range(0, 6).Select(_ =>
                    {
                        var nics = instances.Where(_ => random.Next(3) == 0).DefaultIfEmpty(instances[0]).ToList();
                        var known = new Dictionary<string, string>(StringComparer.Ordinal);
                        foreach (var nic in nics)
                        {
                            var pick = random.Next(4);
                            if (pick == 0 && given.Count > 0)
                                known[nic.Value] = given[random.Next(given.Count)];
                            else if (pick == 1)
                                known[nic.Value] = view.PartOf(view.Source(s), nic).Digest;
                            else if (pick == 2)
                                known[nic.Value] = new string('0', 31) + random.Next(10);
                        }
                        return (Nics: nics, Known: known);
                    }).ToList();
                    var asked = questions.Concat(questions).OrderBy(_ => random.Next()).ToList();
                    foreach (var (nics, known) in asked)
                    {
                        var (fast, slow) = (new Palisade.Server.Responses.EcsObject(), new Palisade.Server.Responses.EcsObject());
                        Palisade.Server.Actions.Hosts.DescribeHostPolicy.AddParts(fast, view, s, nics, known, sharedParts: true, differences: true);
                        Palisade.Server.Actions.Hosts.DescribeHostPolicy.AddParts(slow, view, s, nics, known, sharedParts: true, differences: true, shareState: false);
                        var (fastJson, slowJson) = (Json(fast), Json(slow));
                        Assert.True(fastJson == slowJson, $"seed {seed}, step {step} ({what}): the shared answer differs from its own rendering:\n{fastJson}\n{slowJson}");
                        using var document = JsonDocument.Parse(fastJson);
                        given.AddRange(document.RootElement.GetProperty("Nics").GetProperty("Nic").EnumerateArray().Select(n => n.GetProperty("Digest").GetString()!));
                    }
                    return asked.Count;
                });
            }
        }
        var sharedNow = Palisade.Server.Actions.Hosts.AccountViews.View.States.Shared - shared;
        output.WriteLine($"seed {seed}: {compared} answers compared with their own rendering, {sharedNow} states shared");
        Assert.True(sharedNow >= compared / 4, $"only {sharedNow} of {compared} answers shared a state");

        static string Json(Palisade.Server.Responses.EcsObject o) => System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(o));
    }

    /// <summary>The account's view at its latest revision as the node keeps it (brought forward if it can) and as loaded whole: the same answers.</summary>
    private static int CompareWithTheWholeReload(IStoreSession s, Palisade.Server.Actions.Hosts.AccountViews views, long account, string where)
    {
        var revision = s.LatestRevision(account);
        var kept = views.Get(s, account, Region, revision);
        var whole = views.Whole(s, account, Region, revision);
        var (a, b) = (kept.Source(s), whole.Source(s));
        Assert.True(string.Join(" ", a.Instances.Select(i => i.Id.Value)) == string.Join(" ", b.Instances.Select(i => i.Id.Value)), $"{where}: the instances differ");
        // Seventeenth session: the groups (made and deleted ones too, in the store's order, each rendered alike) and the indexes as a build.
        Assert.True(string.Join(" ", a.Groups.Select(g => g.Id.Value)) == string.Join(" ", b.Groups.Select(g => g.Id.Value)), $"{where}: the groups differ");
        foreach (var (ga, gb) in a.Groups.Zip(b.Groups))
            Assert.True(Json(Palisade.Server.Actions.Insight.StateExport.GroupItem(a, ga)) == Json(Palisade.Server.Actions.Insight.StateExport.GroupItem(b, gb)), $"{where}: {gb.Id} renders otherwise");
        var differs = kept.IndexesDifferFromABuild();
        Assert.True(differs is null, $"{where}: the view's indexes differ from a build: {differs}");
        foreach (var host in Hosts)
            Assert.True(kept.BindingsOn(host).SequenceEqual(whole.BindingsOn(host)), $"{where}: the bindings on {host} differ");
        foreach (var instance in b.Instances)
        {
            var (fast, slow) = (kept.PartOf(a, instance.Id), whole.PartOf(b, instance.Id));
            Assert.True(fast.Digest == slow.Digest, $"{where}: {instance.Id}'s part differs: {fast.Digest} vs {slow.Digest}");
            Assert.Equal(Json(slow.Listed), Json(fast.Listed));
            foreach (var r in slow.Resources)
                Assert.True(Json(kept.ItemOf(r.Kind, r.Id)) == Json(whole.ItemOf(r.Kind, r.Id)), $"{where}: {r.Kind} {r.Id} renders otherwise:\n{Json(kept.ItemOf(r.Kind, r.Id))}\n{Json(whole.ItemOf(r.Kind, r.Id))}");
        }
        return 1;

        static string Json(Palisade.Server.Responses.EcsObject item) => System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(item));
    }

    /// <summary>One random change of the kinds that touch a host's policy (and some that must not).</summary>
    private static async Task<string> ChangeAsync(TestControlPlane server, World w, Random random)
    {
        var s = w.Scenario;
        var api = s.Api;
        switch (random.Next(16))
        {
            case 0:
            case 1:
                await w.AuthorizeAsync();
                return "authorize";
            case 2:
            {
                var group = w.Pick(w.Groups);
                var rules = await s.RulesAsync(group);
                if (rules.Count == 0)
                    return "revoke (none)";
                var rule = w.Pick(rules);
                await api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = group, SecurityGroupRuleId = new[] { rule.Str("SecurityGroupRuleId") } });
                return "revoke";
            }
            case 3:
                await api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = w.Pick(w.Instances), SecurityGroupId = w.Pick(w.Groups) });
                return "join";
            case 4:
                await api.CallAsync("LeaveSecurityGroup", new { RegionId = Region, InstanceId = w.Pick(w.Instances), SecurityGroupId = w.Pick(w.Groups) });
                return "leave";
            case 5:
                await api.CallAsync("ModifyPrefixList", new { RegionId = Region, PrefixListId = w.Pick(w.PrefixLists), AddEntry = new[] { new { Cidr = w.NextCidr() } } });
                return "prefix list";
            case 6:
            {
                var from = random.Next(1, 60000);
                await api.CallAsync("ModifyPortRangeList", new { RegionId = Region, PortRangeListId = w.Pick(w.PortRangeLists), AddEntry = new[] { new { PortRange = $"{from}/{from + 1}" } } });
                return "port-range list";
            }
            case 7:
                await api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = w.Pick(w.Groups), InnerAccessPolicy = random.Next(2) == 0 ? "Accept" : "Drop" });
                return "inner access";
            case 8:
                await w.BindAsync(w.Pick(w.Instances));
                return "bind";
            case 9:
                server.Hosts.Unbind(w.Pick(w.Instances));
                return "unbind";
            case 10:
                await api.CallAsync("ModifyInstanceAttribute", new { InstanceId = w.Pick(w.Instances), InstanceName = "renamed" + random.Next(1000) });
                return "rename (never changes a policy)";
            case 11:
            {
                var instance = w.Pick(w.Instances);
                await api.CallAsync("DeleteInstance", new { InstanceId = instance, Force = true });
                w.Instances.Remove(instance);
                return "delete instance";
            }
            case 12:
                await w.RunAsync();
                return "run instance";
            case 15:
            {
                // Two instances made in the same second, tagged: the step puts each at its place in the store's
                // order (made, then ID, both descending) and reads their tags (issue 17, sixteenth session).
                var made = (await api.CallAsync("RunInstances", new { RegionId = Region, SecurityGroupId = w.Pick(w.Groups), VSwitchId = w.VSwitch, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 2, Tag = new[] { new { Key = "team", Value = "t" + random.Next(10) } } }))
                    .Items("InstanceIdSets", "InstanceIdSet").Select(i => i.GetString()!).ToList();
                w.Instances.AddRange(made);
                foreach (var instance in made.Where(_ => random.Next(2) == 0))
                    await w.BindAsync(instance);
                return "run two tagged";
            }
            case 13:
            {
                var eni = (await api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = w.VSwitch, SecurityGroupId = w.Pick(w.Groups) })).Str("NetworkInterfaceId");
                w.Enis.Add(eni);
                await api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = w.Pick(w.Instances) });
                return "ENI attached";
            }
            default:
                if (w.Enis.Count == 0)
                    return "ENI join (none)";
                await api.CallAsync("JoinSecurityGroup", new { RegionId = Region, NetworkInterfaceId = w.Pick(w.Enis), SecurityGroupId = w.Pick(w.Groups) });
                return "ENI join";
        }
    }

    /// <summary>
    /// Every host's answer for every account with NICs on it, computed by <c>DescribeHostPolicy</c>'s
    /// fast path (the view's indexes, shared renderings and digest indexes) and by its slow twin (each
    /// part selected by <c>StateExport.Select</c>, every resource rendered anew, the held set built
    /// whole), for the digests the host's last answer gave and for none: the same JSON. And every
    /// instance's part selected through the view's indexes is the slow selection's, record for record.
    /// </summary>
    private int CompareAnswerWithItsSlowTwin(int seed, int step, string what, Dictionary<string, Dictionary<string, string>> answered)
    {
        var views = Palisade.Server.Actions.Hosts.AccountViews.Of(_server.Store);
        return _server.Store.Read(s =>
        {
            var compared = 0;
            var revision = s.CurrentRevision();
            foreach (var host in Hosts)
            {
                foreach (var account in s.ListBindingsOnHost(host).GroupBy(b => b.AccountId))
                {
                    var view = views.Get(s, account.Key, Region, s.AccountRevisionAt(account.Key, revision));
                    var source = view.Source(s);
                    foreach (var instance in source.Instances)
                    {
                        var fastPart = view.Select(source, instance.Id);
                        var slowPart = Palisade.Server.Actions.Insight.StateExport.Select(source, new HashSet<InstanceId> { instance.Id });
                        Assert.True(IdsOf(fastPart) == IdsOf(slowPart), $"seed {seed}, step {step} ({what}): {instance.Id}'s part selected through the view differs: {IdsOf(fastPart)} vs {IdsOf(slowPart)}");
                    }
                    var nics = account.Select(b => b.InstanceId).Distinct().ToList();
                    foreach (var known in new[] { answered[host], new Dictionary<string, string>(StringComparer.Ordinal) })
                    {
                        var fast = new Palisade.Server.Responses.EcsObject();
                        Palisade.Server.Actions.Hosts.DescribeHostPolicy.AddParts(fast, view, s, nics, known, sharedParts: true);
                        var slow = Palisade.Server.Actions.Hosts.DescribeHostPolicy.SlowAccountParts(view, s, nics, known);
                        var (fastJson, slowJson) = (System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(fast)), System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(slow)));
                        Assert.True(fastJson == slowJson, $"seed {seed}, step {step} ({what}): {host}'s answer for account {account.Key} differs from its slow twin:\n{fastJson}\n{slowJson}");
                        compared++;
                    }
                    using var document = JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(Palisade.Server.Responses.ResponseWriter.Json(Answer(view, s, nics, answered[host]))));
                    foreach (var nic in document.RootElement.GetProperty("Nics").GetProperty("Nic").EnumerateArray())
                        answered[host][nic.GetProperty("InstanceId").GetString()!] = nic.GetProperty("Digest").GetString()!;
                }
            }
            return compared;
        });

        static Palisade.Server.Responses.EcsObject Answer(Palisade.Server.Actions.Hosts.AccountViews.View view, IStoreSession s, List<InstanceId> nics, Dictionary<string, string> known)
        {
            var answer = new Palisade.Server.Responses.EcsObject();
            Palisade.Server.Actions.Hosts.DescribeHostPolicy.AddParts(answer, view, s, nics, known, sharedParts: true);
            return answer;
        }

        static string IdsOf(Palisade.Server.Actions.Insight.StateExport.Part p) => string.Join(" ",
            [.. p.Groups.Select(g => g.Id.Value), "|", .. p.Instances.Select(i => i.Id.Value), "|", .. p.Interfaces.Select(e => e.Id.Value), "|", .. p.PrefixLists.Select(l => l.Id.Value), "|", .. p.PortRangeLists.Select(l => l.Id.Value)]);
    }

    [Theory]
    [MemberData(nameof(Seeds), 17, 1703, 20261203)]
    public async Task EveryHostWhoseRulesetChanges_IsWoken_AndNeedlessWakeUpsAreCounted(int seed)
    {
        var random = new Random(seed);
        // Two tenants on the same four hosts: each change is one tenant's, and may concern the other's hosts only through its own NICs.
        var worlds = new List<World>();
        foreach (var name in new[] { "a", "b" })
        {
            var key = _server.NewAccount($"scope-{seed}-{name}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            worlds.Add(world);
        }
        var accounts = worlds.Select(w => (w.Account, w.Scenario.Api)).ToList();
        var hostApis = Hosts.ToDictionary(h => h, h => _server.HostClient(h));
        var (changedHosts, wokenHosts, needless, refused, made, accountWoken) = (0, 0, 0, 0, 0, 0);
        var needlessByChange = new SortedDictionary<string, int>(StringComparer.Ordinal);
        // One incremental follower per host, as its agent holds it: after every change its union of
        // the NIC parts it holds and those that changed must render as the whole accounts do.
        var followers = Hosts.ToDictionary(h => h, h => new Palisade.Agent.Following.EcsControlPlane(hostApis[h], Region));
        // The same followers holding their texts and states in one shared store, as the fleet bench's
        // simulated agents do (issue 17): each fetch must render as the unshared follower's (its slow twin).
        var shared = new Palisade.Agent.Following.SharedContent();
        var sharing = Hosts.ToDictionary(h => h, h => new Palisade.Agent.Following.EcsControlPlane(hostApis[h], Region) { Shared = shared });
        var (received, unchanged) = (0L, 0L);
        // What each host's agent applied last (rendered from the parts it fetched): the next fetch is
        // rendered again from it (PolicyRenderer.Rerender: only the NICs whose parts changed are compiled),
        // and must be byte for byte the whole rendering (its slow twin).
        var applied = new Dictionary<string, (Palisade.Agent.Rendering.HostRuleset Ruleset, IReadOnlyList<Palisade.Agent.Rendering.HostPart> Parts)>(StringComparer.Ordinal);
        var (kept, compiled) = (0, 0);
        // The digests each host's last fast answer gave (what its agent holds), per account: the next
        // answer is compared with its slow twin for them, and for none (a full fetch).
        var answered = Hosts.ToDictionary(h => h, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        var compared = 0;
        for (var step = 0; step < 40; step++)
        {
            var before = await RenderEveryHostAsync(accounts);
            var boundBefore = AccountsOnHosts();
            var revision = _server.Store.CurrentRevision();
            var world = worlds[random.Next(worlds.Count)];
            string what;
            try
            {
                what = await ChangeAsync(_server, world, random);
            }
            catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
            {
                // A random change refused (leaving a group one is not in, a last group, a limit, an interface in use): it changed nothing.
                refused++;
                continue;
            }
            made++;
            var after = await RenderEveryHostAsync(accounts);
            var boundAfter = AccountsOnHosts();
            foreach (var host in Hosts)
            {
                var changed = before[host] != after[host];
                var woken = await WokenAsync(hostApis[host], revision);
                Assert.True(woken || !changed, $"seed {seed}, step {step} ({what}): {host}'s ruleset changed but the change did not wake it");
                changedHosts += changed ? 1 : 0;
                wokenHosts += woken ? 1 : 0;
                needless += woken && !changed ? 1 : 0;
                accountWoken += boundBefore[host].Contains(world.Account) || boundAfter[host].Contains(world.Account) ? 1 : 0;
                if (woken)
                {
                    var policy = await followers[host].FetchAsync(host, CancellationToken.None);
                    var whole = PolicyRenderer.Render(policy.Parts, step + 1);
                    Assert.True(after[host] == NftText.FullApply(PolicyRenderer.Render(policy.Parts, 0)),
                        $"seed {seed}, step {step} ({what}): {host}'s incremental fetch renders otherwise than the whole accounts");
                    var sharedPolicy = await sharing[host].FetchAsync(host, CancellationToken.None);
                    Assert.True(after[host] == NftText.FullApply(PolicyRenderer.Render(sharedPolicy.Parts, 0))
                        && policy.Parts.Select(p => p.Source).SequenceEqual(sharedPolicy.Parts.Select(p => p.Source))
                        && policy.Parts.Select(SourceItems).SequenceEqual(sharedPolicy.Parts.Select(SourceItems)),
                        $"seed {seed}, step {step} ({what}): {host}'s fetch holding shared content renders otherwise than its unshared twin");
                    var next = whole;
                    if (applied.TryGetValue(host, out var last))
                    {
                        var rerendered = PolicyRenderer.Rerender(last.Ruleset, last.Parts, policy.Parts, step + 1);
                        Assert.True(NftText.FullApply(whole) == NftText.FullApply(rerendered) && whole.Problems.SequenceEqual(rerendered.Problems),
                            $"seed {seed}, step {step} ({what}): {host}'s ruleset rendered again from the last one differs from its whole rendering");
                        var keptNow = PolicyRenderer.KeptBy(last.Ruleset, last.Parts, policy.Parts, step + 1);
                        kept += keptNow;
                        compiled += whole.Nics.Length - keptNow;
                        // Kept as the agent keeps it: the next change is rendered again from this one.
                        next = rerendered;
                    }
                    applied[host] = (next, policy.Parts);
                }
                if (woken && !changed)
                    needlessByChange[what] = needlessByChange.GetValueOrDefault(what) + 1;
            }
            compared += CompareAnswerWithItsSlowTwin(seed, step, what, answered);
        }
        output.WriteLine($"seed {seed}: {compared} account answers compared with their slow twin");
        foreach (var follower in followers.Values)
            (received, unchanged) = (received + follower.Parts.Received, unchanged + follower.Parts.Unchanged);
        output.WriteLine($"seed {seed}: incremental fetches received {received} NIC parts and were told {unchanged} were unchanged");
        output.WriteLine($"seed {seed}: the sharing followers asked for {shared.Texts.Asked} texts, {shared.Texts.Found} held already; parsed {shared.States.Parsed} states, {shared.States.Found} found parsed");
        Assert.True(shared.Texts.Found > 0, "no text was shared between the followers: the sharing was not exercised");
        output.WriteLine($"seed {seed}: rendering again after a fetch kept {kept} NICs' chains and compiled {compiled}");
        Assert.True(kept > 0, "no NIC was kept when rendering again: the incremental render was not exercised");
        Assert.True(unchanged > 0, "no fetch was spared a NIC's part");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {made} changes, {changedHosts} host rulesets changed, {wokenHosts} hosts woken, {needless} needlessly ({(wokenHosts == 0 ? 0 : 100.0 * needless / wokenHosts):F1} % of wake-ups); a feed of every change of an account with a NIC on the host would have woken {accountWoken} ({(accountWoken == 0 ? 0 : 100.0 * (accountWoken - changedHosts) / accountWoken):F1} % needless), the account-wide feed {made * Hosts.Length}; {refused} changes refused; needless by change: {string.Join(", ", needlessByChange.Select(n => $"{n.Key} {n.Value}"))}"));
        // The property is checked above; this says the steps did exercise it.
        Assert.True(changedHosts > 10, $"seed {seed}: only {changedHosts} host rulesets changed; the random changes no longer exercise the scope");
    }

    /// <summary>The resources' texts a part's state was read from, list by list, as one text.</summary>
    private static string SourceItems(Palisade.Agent.Rendering.HostPart part) =>
        string.Join("\u0001", part.SourceItems?.Select(l => string.Join("\u0002", l)) ?? []);

    /// <summary>
    /// An agent fed differences (issue 17, <c>PartDifferences=true</c>) holds byte for byte the state
    /// of an agent fed whole lists (its slow twin, <c>PartDifferences=false</c>), on hosts shared with
    /// other accounts, for random states and random changes — fetching after some changes only (its
    /// base then several revisions old, or a part whose digest came back to one it held before, as
    /// joins and leaves undo each other), and with the node forgetting what digests stand for at random
    /// (<c>PartMemory.Forget</c>: the lists then come whole). Eighteenth session: the slow twin is all the
    /// slow twins together (whole lists, every resource's dictionary and the union rebuilt each fetch,
    /// <c>KeepsResources=false</c>, the whole text read, <c>ReadsWhole=true</c>; twentieth session: the answer
    /// read as a string and its <c>State</c> parsed again, <c>ReadsAnswerOnce=false</c>), the difference-fed agent
    /// fetches whole every time on a quarter of the rounds (a full resync), and what each would program is
    /// compared too: its ruleset rendered again from its last, as the agent renders it. Counted: the parts rebuilt, to show the
    /// differences were exercised; an agent fetching whole again (a difference that did not add up)
    /// must not happen against a correct server.
    /// </summary>
    [Fact]
    public async Task AnAgentFedDifferences_HoldsTheStateOfOneFedWholeLists()
    {
        var round = 0;
        var (rebuilt, fetched, forgotten, returned, joinsInARow) = (0L, 0, 0, 0, 0);
        // Per step: the change's seed, which hosts' difference-fed agents fetch after it (a bit each), and
        // 0: the node forgets after it, 1: the change is a join, or the undoing of the last such join.
        var gen = Gen.Select(Gen.Int, Gen.Int[0, 15], Gen.Int[0, 7]).Array[3, 12];
        await gen.SampleAsync(async steps =>
        {
            round++;
            var random = new Random(steps[0].Item1);
            var key = _server.NewAccount($"differences-{round}");
            var world = new World(new Scenario(_server.Client(key)), _server, key.AccountId, random);
            await world.BuildAsync();
            var apis = Hosts.ToDictionary(h => h, h => _server.HostClient(h));
            // A full fetch now and then on some rounds (every fetch of the difference-fed agent starts from nothing).
            var full = round % 4 == 0 ? TimeSpan.Zero : TimeSpan.FromMinutes(10);
            var differences = Hosts.ToDictionary(h => h, h => new Palisade.Agent.Following.EcsControlPlane(apis[h], Region) { FullFetchInterval = full });
            // The slow twins together: whole lists, every resource's dictionary and the union rebuilt each fetch, the whole text read, the answer's State parsed again.
            var whole = Hosts.ToDictionary(h => h, h => new Palisade.Agent.Following.EcsControlPlane(apis[h], Region) { PartDifferences = false, KeepsResources = false, ReadsWhole = true, ReadsAnswerOnce = false });
            // What each would program: its ruleset rendered again from the last as the agent renders it.
            var rendered = new Dictionary<(string Host, bool Twin), (Palisade.Agent.Rendering.HostRuleset Ruleset, IReadOnlyList<Palisade.Agent.Rendering.HostPart> Parts)>();
            string Programmed(string host, bool twin, Palisade.Agent.Following.HostPolicy policy)
            {
                var next = rendered.TryGetValue((host, twin), out var last)
                    ? Palisade.Agent.Rendering.PolicyRenderer.Rerender(last.Ruleset, last.Parts, policy.Parts, policy.Revision)
                    : Palisade.Agent.Rendering.PolicyRenderer.Render(policy.Parts, policy.Revision);
                rendered[(host, twin)] = (next, policy.Parts);
                return Palisade.Agent.Rendering.NftText.FullApply(next);
            }
            // The digests each NIC's part had at the difference-fed agent's fetches: a part coming back to an earlier one is counted.
            var held = new Dictionary<(string Host, string Nic), List<string>>();
            foreach (var host in Hosts)
            {
                await differences[host].FetchAsync(host, CancellationToken.None);
                await whole[host].FetchAsync(host, CancellationToken.None);
            }
            // A join made to be undone by the next such step: the parts it changed come back to digests held before.
            (string Instance, string Group)? undo = null;
            foreach (var (seed, fetchers, forget) in steps)
            // (Twenty-second session) 2: three joins in a row (an instance run into a group), each fetched by every host.
            for (var again = forget == 2 ? 3 : 1; again > 0; again--)
            {
                try
                {
                    if (forget == 2)
                    {
                        world.Instances.Add((await world.Scenario.RunAsync(world.Pick(world.Groups), world.VSwitch)).Single());
                        joinsInARow++;
                    }
                    else if (forget == 1 && undo is { } joined)
                    {
                        undo = null;
                        await world.Scenario.Api.CallAsync("LeaveSecurityGroup", new { RegionId = Region, InstanceId = joined.Instance, SecurityGroupId = joined.Group });
                    }
                    else if (forget == 1)
                    {
                        var r = new Random(seed);
                        var (instance, group) = (world.Instances[r.Next(world.Instances.Count)], world.Groups[r.Next(world.Groups.Count)]);
                        await world.Scenario.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = group });
                        undo = (instance, group);
                    }
                    else
                        await ChangeAsync(_server, world, new Random(seed));
                }
                catch (Exception e) when (e is EcsApiException or Palisade.Domain.Errors.EcsException)
                {
                    // A refused change changed nothing.
                }
                if (forget == 0)
                {
                    Palisade.Server.Actions.Hosts.PartMemory.Forget();
                    forgotten++;
                }
                for (var h = 0; h < Hosts.Length; h++)
                {
                    var host = Hosts[h];
                    var twin = await whole[host].FetchAsync(host, CancellationToken.None);
                    // A join and its undoing are fetched by every host: a part's digest then comes back to one held before (and each of joins in a row).
                    if ((fetchers & (1 << h)) == 0 && forget is not (1 or 2))
                        continue;
                    var policy = await differences[host].FetchAsync(host, CancellationToken.None);
                    fetched++;
                    Assert.Equal(twin.Revision, policy.Revision);
                    Assert.True(twin.Parts.Select(p => StateFileWriter.Write(p.State)).SequenceEqual(policy.Parts.Select(p => StateFileWriter.Write(p.State))),
                        $"round {round}, {host}: the state rebuilt from differences is not the state assembled from whole lists");
                    Assert.Equal(Programmed(host, true, twin), Programmed(host, false, policy));
                    foreach (var (nic, digest) in policy.Parts.SelectMany(p => p.NicDigests ?? new Dictionary<string, string>()))
                    {
                        var history = held.TryGetValue((host, nic), out var h2) ? h2 : held[(host, nic)] = [];
                        if (history.Count > 0 && history[^1] != digest && history.Contains(digest))
                            returned++;
                        history.Add(digest);
                    }
                }
            }
            foreach (var host in Hosts)
            {
                Assert.Equal(0L, differences[host].Differences.FetchedWholeAgain);
                rebuilt += differences[host].Differences.Rebuilt;
            }
        }, iter: 12, threads: 1, print: steps => string.Join(" ", steps.Select(s => $"({s.Item1},{s.Item2},{s.Item3})")));
        output.WriteLine($"{round} rounds: {fetched} fetches of difference-fed agents, {rebuilt} parts rebuilt from differences, {returned} NIC parts back to a digest held before, the node forgot {forgotten} times, {joinsInARow} joins three in a row");
        Assert.True(rebuilt > 0, "no part was rebuilt from a difference: the differences were not exercised");
        Assert.True(joinsInARow > 0, "no joins in a row");
    }

    /// <summary>
    /// A parked host poll is woken by the changes that concern its host, of any account with a NIC
    /// there, and by nothing else: not by another host's group, not by another tenant's change on
    /// the same shared host that none of its NICs there depends on.
    /// </summary>
    [Fact]
    public async Task AChangeOfAnotherHostsGroup_DoesNotWakeAParkedHostPoll()
    {
        var a = new Scenario(_server.Client(_server.NewAccount("scope-parked-a")));
        var vpc = await a.VpcAsync();
        var vsw = await a.VSwitchAsync(vpc);
        var web = await a.GroupAsync(vpc, "web");
        var db = await a.GroupAsync(vpc, "db");
        var webInstance = (await a.RunAsync(web, vsw)).Single();
        var dbInstance = (await a.RunAsync(db, vsw)).Single();
        // Tenant B shares the web host (the same VPC block: overlapping addresses are the normal case).
        var b = new Scenario(_server.Client(_server.NewAccount("scope-parked-b")));
        var bVpc = await b.VpcAsync();
        var bVsw = await b.VSwitchAsync(bVpc);
        var bApp = await b.GroupAsync(bVpc, "app");
        var bOther = await b.GroupAsync(bVpc, "other");
        var bInstance = (await b.RunAsync(bApp, bVsw)).Single();
        _server.Bind(webInstance, "web-host", "vnet0");
        _server.Bind(dbInstance, "db-host", "vnet1");
        _server.Bind(bInstance, "web-host", "vnet2");
        var webHost = _server.HostClient("web-host");
        var dbHost = _server.HostClient("db-host");
        var revision = _server.Store.CurrentRevision().ToString(CultureInfo.InvariantCulture);

        var webPoll = webHost.CallAsync("DescribeChanges", new { AfterRevision = revision, WaitSeconds = 3 });
        var dbPoll = dbHost.CallAsync("DescribeChanges", new { AfterRevision = revision, WaitSeconds = 30 });
        await WaitUntilParkedAsync(2);
        await a.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceCidrIp = "10.0.0.0/8" });
        // B's group that none of its NICs is in: no host's policy depends on it.
        await b.AuthorizeAsync(bOther, new { IpProtocol = "tcp", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });

        var dbChanges = await dbPoll;
        Assert.Equal("AuthorizeSecurityGroup", dbChanges.Items("Changes", "Change").Single().Str("Action"));
        // The web host's poll runs out its wait: neither change concerned it.
        Assert.Empty((await webPoll).Items("Changes", "Change"));

        // Once the db group is named by a web rule, the web host depends on its members: a new member wakes both.
        await a.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "80/80", SourceGroupId = db });
        var joined = _server.Store.CurrentRevision();
        await a.RunAsync(db, vsw);
        Assert.True(await WokenAsync(webHost, joined));
        Assert.True(await WokenAsync(dbHost, joined));
        // B's change to the group of its NIC on the web host wakes the web host alone.
        var beforeB = _server.Store.CurrentRevision();
        await b.AuthorizeAsync(bApp, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        Assert.True(await WokenAsync(webHost, beforeB));
        Assert.False(await WokenAsync(dbHost, beforeB));
        Assert.False(await WokenAsync(_server.HostClient("another-host"), 0));
    }

    private async Task WaitUntilParkedAsync(int polls)
    {
        var watcher = _server.Store.Commits;
        for (var i = 0; i < 200 && watcher.ParkedCount < polls; i++)
            await Task.Delay(25);
        Assert.True(watcher.ParkedCount >= polls, $"{watcher.ParkedCount} polls parked");
    }

    [Fact]
    public async Task HostNameAndDigests_AreChecked_AtTheEdge()
    {
        var tenant = _server.Client(_server.NewAccount("scope-edge"));
        // The host feed is the host credential's: a tenant asking for a host's feed is refused, whatever the host.
        await ApiAssert.FailsAsync(() => tenant.CallAsync("DescribeChanges", new { HostName = "node-1", AfterRevision = "0" }), "Forbidden.HostCredentialRequired", 403);
        var host = _server.HostClient("node-1");
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeChanges", new { HostName = "node-2", AfterRevision = "0" }), "Forbidden.HostCredential", 403);
        var nic = new Dictionary<string, string> { ["RegionId"] = Region, ["KnownNic.1.InstanceId"] = "i-bp1aaaaaaaaaaaaaaaaa", ["KnownNic.1.Digest"] = new string('0', 32) };
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeHostPolicy", nic), "InvalidParameter", 400);
        nic["PerNic"] = "true";
        nic["KnownNic.1.Digest"] = "not-a-digest";
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeHostPolicy", nic), "InvalidParameter", 400);
        nic.Remove("KnownNic.1.InstanceId");
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeHostPolicy", nic), "MissingParameter", 400);
        // Differences are sent only in Parts: asked for without SharedParts, refused.
        await ApiAssert.FailsAsync(() => host.CallAsync("DescribeHostPolicy", new { RegionId = Region, PerNic = "true", PartDifferences = "true" }), "InvalidParameter", 400);
    }

    /// <summary>On a host with NICs of two accounts, a change of one account's group sends that NIC's part alone.</summary>
    [Fact]
    public async Task AnIncrementalFetch_CarriesOnlyTheNicsWhosePartChanged()
    {
        var groups = new List<string>();
        Scenario? first = null;
        for (var account = 0; account < 2; account++)
        {
            var s = new Scenario(_server.Client(_server.NewAccount($"scope-parts-{account}")));
            first ??= s;
            var vpc = await s.VpcAsync();
            var vsw = await s.VSwitchAsync(vpc);
            for (var i = 0; i < 2 - account; i++)
            {
                var group = await s.GroupAsync(vpc, $"tier{i}");
                groups.Add(group);
                var instance = (await s.RunAsync(group, vsw)).Single();
                _server.Bind(instance, "node-1", $"vnet{groups.Count}");
            }
        }
        var host = _server.HostClient("node-1");
        var follower = new Palisade.Agent.Following.EcsControlPlane(host, Region);
        var whole = new Palisade.Agent.Following.EcsControlPlane(host, Region) { Incremental = false };
        var policy = await follower.FetchAsync("node-1", CancellationToken.None);
        Assert.Equal((3L, 0L), follower.Parts);
        Assert.Equal(2, policy.Parts.Count);

        await first!.AuthorizeAsync(groups[1], new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        policy = await follower.FetchAsync("node-1", CancellationToken.None);
        // One NIC's part came; the two others (one of each account) were only named unchanged.
        Assert.Equal((4L, 2L), follower.Parts);
        var expected = await whole.FetchAsync("node-1", CancellationToken.None);
        var rendered = NftText.FullApply(PolicyRenderer.Render(policy.Parts, 0));
        Assert.Equal(NftText.FullApply(PolicyRenderer.Render(expected.Parts, 0)), rendered);
        Assert.Contains("443", rendered, StringComparison.Ordinal);
    }
    /// <summary>
    /// NICs with the same groups share one part, listed once; after a rule change in a group that
    /// every part lists, the answer sends that group alone (the agent holds the rest as it is), and
    /// the agent's state still renders as the whole account's — also when the server has forgotten
    /// what the agent's digests stand for (it then sends the parts' resources again).
    /// </summary>
    [Fact]
    public async Task ARuleChange_SendsTheChangedGroupAlone_AndNicsWithTheSameGroupsShareOnePart()
    {
        var s = new Scenario(_server.Client(_server.NewAccount("scope-shared-parts")));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var server = await s.GroupAsync(vpc, "server");
        var pod = await s.GroupAsync(vpc, "pod");
        var front = (await s.RunAsync(server, vsw)).Single();
        await s.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = front, SecurityGroupId = pod });
        var members = await s.RunAsync(pod, vsw, 5);
        _server.Bind(front, "node-1", "vnet0");
        for (var i = 0; i < members.Count; i++)
            _server.Bind(members[i], "node-1", $"vnet{i + 1}");
        var solo = (await s.RunAsync(await s.GroupAsync(vpc, "solo"), vsw)).Single();
        _server.Bind(solo, "node-1", "vnet9");
        var host = _server.HostClient("node-1");
        var follower = new Palisade.Agent.Following.EcsControlPlane(host, Region);
        var whole = new Palisade.Agent.Following.EcsControlPlane(host, Region) { Incremental = false };
        await follower.FetchAsync("node-1", CancellationToken.None);

        async Task<JsonElement> AccountAsync(IEnumerable<(string Instance, string Digest)> known)
        {
            var p = new Dictionary<string, string> { ["RegionId"] = Region, ["PerNic"] = "true", ["SharedParts"] = "true" };
            var n = 0;
            foreach (var (instance, digest) in known)
            {
                n++;
                p[$"KnownNic.{n}.InstanceId"] = instance;
                p[$"KnownNic.{n}.Digest"] = digest;
            }
            return (await host.CallAsync("DescribeHostPolicy", p)).Items("Accounts", "Account").Single();
        }
        static List<(string, string)> Digests(JsonElement account) =>
            [.. account.Items("Nics", "Nic").Select(n => (n.Str("InstanceId"), n.Str("Digest")))];

        // An agent from before shared parts (no SharedParts) gets each changed NIC's lists on the NIC.
        var older = (await host.CallAsync("DescribeHostPolicy", new { RegionId = Region, PerNic = "true" })).Items("Accounts", "Account").Single();
        Assert.False(older.TryGetProperty("Parts", out _));
        Assert.All(older.Items("Nics", "Nic"), n => Assert.True(n.GetProperty("InstancesIds").GetProperty("InstanceId").GetArrayLength() > 0));

        var first = await AccountAsync([]);
        // Two parts for seven NICs: the solo NIC's, and the one the front and the five pod members
        // share (the members' part lists the front with its server group: the same resources).
        Assert.Equal(2, first.Items("Parts", "Part").Count());
        Assert.Equal(2, first.Items("Nics", "Nic").Select(n => n.Str("Digest")).Distinct().Count());
        Assert.Equal(7, first.GetProperty("State").GetProperty("Instances").GetArrayLength());

        await s.AuthorizeAsync(server, new { IpProtocol = "tcp", PortRange = "8443/8443", SourceCidrIp = "198.51.100.0/24" });
        var after = await AccountAsync(Digests(first));
        // The pod's part lists the server group (the front is in the pod), so its six NICs changed,
        // the solo NIC did not; one part's IDs and one group came.
        Assert.Equal([solo], after.Items("Nics", "Nic").Where(n => !n.GetProperty("Changed").GetBoolean()).Select(n => n.Str("InstanceId")));
        Assert.Single(after.Items("Parts", "Part"));
        var state = after.GetProperty("State");
        Assert.Equal([server], state.GetProperty("SecurityGroups").EnumerateArray().Select(g => g.Str("SecurityGroupId")));
        Assert.Equal(0, state.GetProperty("Instances").GetArrayLength());

        var policy = await follower.FetchAsync("node-1", CancellationToken.None);
        var rendered = NftText.FullApply(PolicyRenderer.Render(policy.Parts, 0));
        Assert.Equal(NftText.FullApply(PolicyRenderer.Render((await whole.FetchAsync("node-1", CancellationToken.None)).Parts, 0)), rendered);
        Assert.Contains("8443", rendered, StringComparison.Ordinal);

        // The server forgets what digests stand for (a restart, another node): it sends the changed parts whole.
        Palisade.Server.Actions.Hosts.PartMemory.Forget();
        await s.AuthorizeAsync(pod, new { IpProtocol = "tcp", PortRange = "9443/9443", SourceCidrIp = "198.51.100.0/24" });
        var forgotten = await AccountAsync(Digests(after));
        Assert.Equal(6, forgotten.GetProperty("State").GetProperty("Instances").GetArrayLength());
        policy = await follower.FetchAsync("node-1", CancellationToken.None);
        rendered = NftText.FullApply(PolicyRenderer.Render(policy.Parts, 0));
        Assert.Equal(NftText.FullApply(PolicyRenderer.Render((await whole.FetchAsync("node-1", CancellationToken.None)).Parts, 0)), rendered);
        Assert.Contains("9443", rendered, StringComparison.Ordinal);
    }
    /// <summary>
    /// After one change of an account, every host with its NICs fetches at once: the node loads the
    /// account's region and computes its parts once for all of them (per account revision), and each
    /// host still gets exactly its own NICs' policy.
    /// </summary>
    [Fact]
    public async Task HostsFetchingAfterOneChange_ShareOneViewOfTheAccount()
    {
        var s = new Scenario(_server.Client(_server.NewAccount("scope-shared-view")));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var pod = await s.GroupAsync(vpc, "pod");
        var instances = await s.RunAsync(pod, vsw, Hosts.Length);
        for (var h = 0; h < Hosts.Length; h++)
            _server.Bind(instances[h], Hosts[h], "vnet0");
        var followers = Hosts.Select(h => (Host: h, Plane: new Palisade.Agent.Following.EcsControlPlane(_server.HostClient(h), Region))).ToList();
        await Task.WhenAll(followers.Select(f => f.Plane.FetchAsync(f.Host, CancellationToken.None)));

        await s.AuthorizeAsync(pod, new { IpProtocol = "tcp", PortRange = "6443/6443", SourceCidrIp = "198.51.100.0/24" });
        var views = Palisade.Server.Actions.Hosts.AccountViews.Of(_server.Store);
        var (loads, forwards) = (views.Loads, views.Forwards);
        var policies = await Task.WhenAll(followers.Select(f => f.Plane.FetchAsync(f.Host, CancellationToken.None)));
        // One view of the new revision, shared: brought forward from the last by the rule change (fifteenth session), not loaded whole.
        Assert.Equal((loads, forwards + 1), (views.Loads, views.Forwards));
        for (var h = 0; h < Hosts.Length; h++)
        {
            var whole = new Palisade.Agent.Following.EcsControlPlane(_server.HostClient(Hosts[h]), Region) { Incremental = false };
            var rendered = NftText.FullApply(PolicyRenderer.Render(policies[h].Parts, 0));
            Assert.Equal(NftText.FullApply(PolicyRenderer.Render((await whole.FetchAsync(Hosts[h], CancellationToken.None)).Parts, 0)), rendered);
            Assert.Contains("6443", rendered, StringComparison.Ordinal);
        }
    }
    /// <summary>
    /// The fleet run of issue 17 left agents of a 100-host change unapplied after 60 s: one commit woke
    /// them all, and all fetched at once, each fetch loading and digesting the whole account. Here 48
    /// hosts of one account park their polls on their host feeds; one commit wakes every one of them,
    /// and their 48 simultaneous fetches share one load of the account, each still getting its policy.
    /// </summary>
    [Fact]
    public async Task OneCommit_WakesEveryParkedHostOfIt_AndTheirFetchesShareOneLoad()
    {
        const int hosts = 48;
        var s = new Scenario(_server.Client(_server.NewAccount("scope-many-hosts")));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var common = await s.GroupAsync(vpc, "common");
        var instances = await s.RunAsync(common, vsw, hosts);
        for (var h = 0; h < hosts; h++)
            _server.Bind(instances[h], $"fleet-{h}", "vnet0");
        var planes = Enumerable.Range(0, hosts).Select(h => (Host: $"fleet-{h}", Plane: new Palisade.Agent.Following.EcsControlPlane(_server.HostClient($"fleet-{h}"), Region))).ToList();
        await Task.WhenAll(planes.Select(p => p.Plane.FetchAsync(p.Host, CancellationToken.None)));

        var revision = _server.Store.CurrentRevision();
        var polls = planes.Select(p => p.Plane.WaitForChangeAsync(p.Host, revision, TimeSpan.FromSeconds(60), CancellationToken.None)).ToList();
        // Parked (a generous deadline: a loaded machine is slow to send 48 requests).
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); _server.Store.Commits.ParkedCount < hosts && wait.Elapsed < TimeSpan.FromSeconds(30);)
            await Task.Delay(25);
        Assert.True(_server.Store.Commits.ParkedCount >= hosts, $"{_server.Store.Commits.ParkedCount} polls parked");
        await s.AuthorizeAsync(common, new { IpProtocol = "tcp", PortRange = "7443/7443", SourceCidrIp = "198.51.100.0/24" });
        var woken = await Task.WhenAll(polls).WaitAsync(TimeSpan.FromSeconds(50));
        Assert.All(woken, Assert.True);

        var views = Palisade.Server.Actions.Hosts.AccountViews.Of(_server.Store);
        var (loads, forwards) = (views.Loads, views.Forwards);
        var policies = await Task.WhenAll(planes.Select(p => p.Plane.FetchAsync(p.Host, CancellationToken.None)));
        Assert.Equal((loads, forwards + 1), (views.Loads, views.Forwards));
        Assert.All(policies, p => Assert.Contains("7443", NftText.FullApply(PolicyRenderer.Render(p.Parts, 0)), StringComparison.Ordinal));
    }
}

/// <summary>The tests that make the node forget what part digests stand for (<c>PartMemory</c> is one per process): not run beside those that count on it remembering.</summary>
[CollectionDefinition(Name)]
public sealed class PartMemoryCollection
{
    public const string Name = "PartMemory";
}
