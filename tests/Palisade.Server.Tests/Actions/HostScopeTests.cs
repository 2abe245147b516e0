using System.Globalization;
using System.Text.Json;
using Palisade.Agent.Rendering;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.State;
using Palisade.Server.Tests.Support;
using Palisade.Storage;
using Xunit.Abstractions;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// The host-scoped feed (issue 17, item 3): which hosts a change wakes. The truth is the slow,
/// obviously correct twin — every host's ruleset rendered from the whole account before and after
/// the change, as its agent would render it — and the fast answer (what the store decided at
/// commit, read through <c>DescribeChanges HostName</c>) must never be narrower than it: every host
/// whose rendered ruleset differs is woken. How often a host is woken for nothing is counted and
/// reported.
/// </summary>
public sealed class HostScopeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestControlPlane _server = null!;

    public async Task InitializeAsync() => _server = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static readonly string[] Hosts = ["node-1", "node-2", "node-3", "node-4"];

    /// <summary>Every host's ruleset rendered from the whole account (revision left out: only what the kernel would enforce).</summary>
    private static async Task<Dictionary<string, string>> RenderEveryHostAsync(EcsClient api)
    {
        var export = await api.CallAsync("ExportSecurityState", new { RegionId = Region });
        var state = StateFileReader.Read(export.GetProperty("State").GetRawText());
        var bindings = (await api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).Items("HostInterfaces", "HostInterface")
            .Select(b => (Host: b.Str("HostName"), Binding: new HostBinding(InstanceId.Parse(b.Str("InstanceId")), b.Str("InterfaceName"))))
            .ToList();
        return Hosts.ToDictionary(h => h, h => NftText.FullApply(PolicyRenderer.Render(state, [.. bindings.Where(b => b.Host == h).Select(b => b.Binding)], 0)));
    }

    private static async Task<bool> WokenAsync(EcsClient api, string host, long after)
    {
        var changes = await api.CallAsync("DescribeChanges", new { HostName = host, AfterRevision = after.ToString(CultureInfo.InvariantCulture) });
        return changes.Items("Changes", "Change").Any();
    }

    private static async Task<long> RevisionAsync(EcsClient api) =>
        (await api.CallAsync("DescribeChanges", new { AfterRevision = "0", MaxResults = 1 })).GetProperty("CurrentRevision").GetInt64();

    /// <summary>A random account: groups with rules naming CIDRs, each other, prefix and port-range lists; instances in 1–2 groups; most bound to one of four hosts.</summary>
    private sealed class World(Scenario s, Random random)
    {
        public readonly List<string> Groups = [];
        public readonly List<string> Instances = [];
        public readonly List<string> PrefixLists = [];
        public readonly List<string> PortRangeLists = [];
        public readonly List<string> Enis = [];
        public string VSwitch = "";
        private int _cidr;

        public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

        public async Task BuildAsync()
        {
            var vpc = await s.VpcAsync();
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

        public Task BindAsync(string instance) =>
            s.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = instance, HostName = Pick(Hosts), InterfaceName = "v" + instance[^8..] });

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

    /// <summary>One random change of the kinds that touch a host's policy (and some that must not).</summary>
    private static async Task<string> ChangeAsync(Scenario s, World w, Random random)
    {
        var api = s.Api;
        switch (random.Next(15))
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
                await api.CallAsync("UnbindHostInterface", new { RegionId = Region, InstanceId = w.Pick(w.Instances) });
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

    [Theory]
    [InlineData(17)]
    [InlineData(1703)]
    [InlineData(20261203)]
    public async Task EveryHostWhoseRulesetChanges_IsWoken_AndNeedlessWakeUpsAreCounted(int seed)
    {
        var random = new Random(seed);
        var key = _server.NewAccount($"scope-{seed}");
        var s = new Scenario(_server.Client(key));
        var world = new World(s, random);
        await world.BuildAsync();
        var (changedHosts, wokenHosts, needless, refused, made) = (0, 0, 0, 0, 0);
        var needlessByChange = new SortedDictionary<string, int>(StringComparer.Ordinal);
        // One incremental follower per host, as its agent holds it: after every change its union of
        // the NIC parts it holds and those that changed must render as the whole account does.
        var followers = Hosts.ToDictionary(h => h, _ => new Palisade.Agent.Following.EcsControlPlane(s.Api, Region));
        var (received, unchanged) = (0L, 0L);
        for (var step = 0; step < 40; step++)
        {
            var before = await RenderEveryHostAsync(s.Api);
            var revision = await RevisionAsync(s.Api);
            string what;
            try
            {
                what = await ChangeAsync(s, world, random);
            }
            catch (EcsApiException)
            {
                // A random change ECS refuses (leaving a group one is not in, a last group, a limit): it changed nothing.
                refused++;
                continue;
            }
            made++;
            var after = await RenderEveryHostAsync(s.Api);
            foreach (var host in Hosts)
            {
                var changed = before[host] != after[host];
                var woken = await WokenAsync(s.Api, host, revision);
                Assert.True(woken || !changed, $"seed {seed}, step {step} ({what}): {host}'s ruleset changed but the change did not wake it");
                changedHosts += changed ? 1 : 0;
                wokenHosts += woken ? 1 : 0;
                needless += woken && !changed ? 1 : 0;
                if (woken)
                {
                    var policy = await followers[host].FetchAsync(host, CancellationToken.None);
                    Assert.True(after[host] == NftText.FullApply(PolicyRenderer.Render(policy.State, policy.Bindings, 0)),
                        $"seed {seed}, step {step} ({what}): {host}'s incremental fetch renders otherwise than the whole account");
                }
                if (woken && !changed)
                    needlessByChange[what] = needlessByChange.GetValueOrDefault(what) + 1;
            }
        }
        foreach (var follower in followers.Values)
            (received, unchanged) = (received + follower.Parts.Received, unchanged + follower.Parts.Unchanged);
        output.WriteLine($"seed {seed}: incremental fetches received {received} NIC parts and were told {unchanged} were unchanged");
        Assert.True(unchanged > 0, "no fetch was spared a NIC's part");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {changedHosts} host rulesets changed, {wokenHosts} hosts woken, {needless} needlessly ({(wokenHosts == 0 ? 0 : 100.0 * needless / wokenHosts):F1} % of wake-ups; the account-wide feed woke {made * Hosts.Length}, {made * Hosts.Length - changedHosts} needlessly); {refused} changes refused; needless by change: {string.Join(", ", needlessByChange.Select(n => $"{n.Key} {n.Value}"))}"));
        // The property is checked above; this says the steps did exercise it.
        Assert.True(changedHosts > 10, $"seed {seed}: only {changedHosts} host rulesets changed; the random changes no longer exercise the scope");
    }

    [Fact]
    public async Task AChangeOfAnotherHostsGroup_DoesNotWakeAParkedHostPoll()
    {
        var key = _server.NewAccount("scope-parked");
        var s = new Scenario(_server.Client(key));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var web = await s.GroupAsync(vpc, "web");
        var db = await s.GroupAsync(vpc, "db");
        var webInstance = (await s.RunAsync(web, vsw)).Single();
        var dbInstance = (await s.RunAsync(db, vsw)).Single();
        await s.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = webInstance, HostName = "web-host", InterfaceName = "vnet0" });
        await s.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = dbInstance, HostName = "db-host", InterfaceName = "vnet1" });
        var revision = (await RevisionAsync(s.Api)).ToString(CultureInfo.InvariantCulture);

        var webPoll = s.Api.CallAsync("DescribeChanges", new { HostName = "web-host", AfterRevision = revision, WaitSeconds = 3 });
        var dbPoll = s.Api.CallAsync("DescribeChanges", new { HostName = "db-host", AfterRevision = revision, WaitSeconds = 30 });
        await WaitUntilParkedAsync(2);
        await s.AuthorizeAsync(db, new { IpProtocol = "tcp", PortRange = "5432/5432", SourceCidrIp = "10.0.0.0/8" });

        var dbChanges = await dbPoll;
        Assert.Equal("AuthorizeSecurityGroup", dbChanges.Items("Changes", "Change").Single().Str("Action"));
        // The web host's poll runs out its wait: the change never concerned it.
        Assert.Empty((await webPoll).Items("Changes", "Change"));

        // Once the db group is named by a web rule, the web host depends on its members: a new member wakes both.
        await s.AuthorizeAsync(web, new { IpProtocol = "tcp", PortRange = "80/80", SourceGroupId = db });
        var joined = await RevisionAsync(s.Api);
        await s.RunAsync(db, vsw);
        Assert.True(await WokenAsync(s.Api, "web-host", joined));
        Assert.True(await WokenAsync(s.Api, "db-host", joined));
        Assert.False(await WokenAsync(s.Api, "another-host", 0));
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
        var key = _server.NewAccount("scope-edge");
        var api = _server.Client(key);
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeChanges", new { HostName = "bad host", AfterRevision = "0" }), "InvalidHostName.Malformed", 400);
        var nic = new Dictionary<string, string> { ["RegionId"] = Region, ["HostName"] = "node-1", ["KnownNic.1.InstanceId"] = "i-bp1aaaaaaaaaaaaaaaaa", ["KnownNic.1.Digest"] = new string('0', 32) };
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeHostPolicy", nic), "InvalidParameter", 400);
        nic["PerNic"] = "true";
        nic["KnownNic.1.Digest"] = "not-a-digest";
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeHostPolicy", nic), "InvalidParameter", 400);
        nic.Remove("KnownNic.1.InstanceId");
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeHostPolicy", nic), "MissingParameter", 400);
    }

    [Fact]
    public async Task AnIncrementalFetch_CarriesOnlyTheNicsWhosePartChanged()
    {
        var key = _server.NewAccount("scope-parts");
        var s = new Scenario(_server.Client(key));
        var vpc = await s.VpcAsync();
        var vsw = await s.VSwitchAsync(vpc);
        var groups = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var group = await s.GroupAsync(vpc, $"tier{i}");
            groups.Add(group);
            var instance = (await s.RunAsync(group, vsw)).Single();
            await s.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = instance, HostName = "node-1", InterfaceName = $"vnet{i}" });
        }
        var follower = new Palisade.Agent.Following.EcsControlPlane(s.Api, Region);
        var whole = new Palisade.Agent.Following.EcsControlPlane(s.Api, Region) { Incremental = false };
        await follower.FetchAsync("node-1", CancellationToken.None);
        Assert.Equal((3L, 0L), follower.Parts);

        await s.AuthorizeAsync(groups[1], new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" });
        var policy = await follower.FetchAsync("node-1", CancellationToken.None);
        // One NIC's part came; the two others were only named unchanged.
        Assert.Equal((4L, 2L), follower.Parts);
        var expected = await whole.FetchAsync("node-1", CancellationToken.None);
        Assert.Equal(NftText.FullApply(PolicyRenderer.Render(expected.State, expected.Bindings, 0)), NftText.FullApply(PolicyRenderer.Render(policy.State, policy.Bindings, 0)));
        Assert.Contains("443", NftText.FullApply(PolicyRenderer.Render(policy.State, policy.Bindings, 0)), StringComparison.Ordinal);
    }
}
