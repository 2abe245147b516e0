using System.Globalization;
using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Errors;
using Palisade.Domain.Hosts;
using Palisade.Server.Actions;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Enforcement with hosts that belong to the operator (issue 18): the operator declares hosts and
/// binds NICs on the store; a host credential reads its host's policy (every account's NICs on it),
/// follows its feed and reports, and nothing else; tenants see their own NICs' status only.
/// </summary>
public sealed class HostBindingTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;
    private Scenario _a = null!;
    private string _group = null!;
    private List<string> _instances = null!;
    private string _vpc = null!;
    private string _vsw = null!;

    private long _accountId;

    public async Task InitializeAsync()
    {
        _server = await TestControlPlane.StartAsync();
        var key = _server.NewAccount("hosts");
        _accountId = key.AccountId;
        _a = new Scenario(_server.Client(key));
        _vpc = await _a.VpcAsync();
        _group = await _a.GroupAsync(_vpc);
        _vsw = await _a.VSwitchAsync(_vpc);
        _instances = await _a.RunAsync(_group, _vsw, amount: 3);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<List<JsonElement>> Interfaces(Scenario tenant, string? host = null) =>
        [.. (await tenant.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region, HostName = host })).Items("HostInterfaces", "HostInterface")];

    private static Task<JsonElement> Policy(EcsClient host, string? hostName = null) =>
        host.CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = hostName });

    private static Task<JsonElement> Report(EcsClient host, long revision, params string[] instances)
    {
        var p = new Dictionary<string, string> { ["RegionId"] = Region, ["AppliedRevision"] = revision.ToString(CultureInfo.InvariantCulture) };
        for (var i = 0; i < instances.Length; i++)
            p[$"InstanceId.{i + 1}"] = instances[i];
        return host.CallAsync("ReportAgentStatus", p);
    }

    private static void Refused(Action act, string code)
    {
        var e = Assert.Throws<EcsException>(act);
        Assert.Equal(code, e.Error.Code);
    }

    [Fact]
    public async Task Bindings_AreListed_AndInSyncOnlyOnceTheHostsAgentReportsTheLatestRevision()
    {
        _server.Bind(_instances[0], "node-1", "vnet0");
        _server.Bind(_instances[1], "node-1", "vnet1");
        _server.Bind(_instances[2], "node-2", "vnet0");
        var listed = await Interfaces(_a, "node-1");
        Assert.Equal(["vnet0", "vnet1"], listed.Select(i => i.Str("InterfaceName")));
        Assert.All(listed, i => Assert.False(i.GetProperty("InSync").GetBoolean()));

        var node1 = _server.HostClient("node-1");
        var policy = await Policy(node1);
        var revision = policy.GetProperty("Revision").GetInt64();
        Assert.Equal("node-1", policy.Str("HostName"));
        Assert.Equal([_instances[0], _instances[1]], policy.Items("HostInterfaces", "HostInterface").Select(i => i.Str("InstanceId")));
        var account = Assert.Single(policy.Items("Accounts", "Account"));
        Assert.Equal(_accountId.ToString(CultureInfo.InvariantCulture), account.Str("AccountId"));
        Assert.Equal(_server.Store.Read(s => s.LatestRevision(_accountId)), account.GetProperty("AccountRevision").GetInt64());
        Assert.Equal(3, account.GetProperty("State").GetProperty("Instances").GetArrayLength());

        var before = _server.Store.CurrentRevision();
        await Report(node1, revision, _instances[0], _instances[1], _instances[2]); // the third is node-2's: ignored
        // A report is bookkeeping: it leaves no revision, so it never wakes a feed.
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.All(await Interfaces(_a, "node-1"), i => Assert.True(i.GetProperty("InSync").GetBoolean()));
        Assert.False((await Interfaces(_a, "node-2")).Single().GetProperty("InSync").GetBoolean());

        await _a.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        Assert.All(await Interfaces(_a, "node-1"), i => Assert.False(i.GetProperty("InSync").GetBoolean()));
        // A report of a revision the server has not reached yet (a confused or forged agent) counts as the latest there is, no more.
        await Report(node1, long.MaxValue, _instances[0]);
        var afterForged = await Interfaces(_a, "node-1");
        Assert.True(afterForged.Single(i => i.Str("InstanceId") == _instances[0]).GetProperty("InSync").GetBoolean());
        await _a.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "23/23", SourceCidrIp = "10.0.0.0/8" });
        Assert.All(await Interfaces(_a, "node-1"), i => Assert.False(i.GetProperty("InSync").GetBoolean()));
    }

    [Fact]
    public async Task BindingAgain_MovesTheInstance_AndUnbindOrDeleteForgetsIt()
    {
        _server.Bind(_instances[0], "node-1", "vnet0");
        _server.Bind(_instances[0], "node-2", "tap7");
        var only = Assert.Single(await Interfaces(_a));
        Assert.Equal(("node-2", "tap7"), (only.Str("HostName"), only.Str("InterfaceName")));
        Assert.Empty((await Policy(_server.HostClient("node-1"))).Items("HostInterfaces", "HostInterface"));
        _server.Hosts.Unbind(_instances[0]);
        Assert.Empty(await Interfaces(_a));
        Refused(() => _server.Hosts.Unbind(_instances[0]), "InvalidInstanceId.NotBound");

        _server.Bind(_instances[1], "node-1", "vnet1");
        await _a.Api.CallAsync("DeleteInstances", new Dictionary<string, string> { ["RegionId"] = Region, ["InstanceId.1"] = _instances[1], ["Force"] = "true" });
        Assert.Empty(await Interfaces(_a));
        Assert.Empty(_server.Hosts.ListBindings("node-1"));
    }

    [Fact]
    public void OperatorBadInput_IsRefusedWithTheCataloguedCode_AndChangesNothing()
    {
        _server.Bind(_instances[0], "node-1", "vnet0");
        var before = _server.Store.CurrentRevision();
        Refused(() => _server.Hosts.Bind(_instances[1], "node-1", "vnet0"), "InvalidInterfaceName.InUse");
        Refused(() => _server.Hosts.Bind(_instances[1], "node-1", "a-name-too-long-for-linux"), "InvalidInterfaceName.Malformed");
        Refused(() => _server.Hosts.Bind(_instances[1], "node-1", "eth0/1"), "InvalidInterfaceName.Malformed");
        Refused(() => _server.Hosts.Bind(_instances[1], "-node", "vnet1"), "InvalidHostName.Malformed");
        Refused(() => _server.Hosts.Bind(_instances[1], "node 1", "vnet1"), "InvalidHostName.Malformed");
        Refused(() => _server.Hosts.Bind("i-bp1doesnotexist00", "node-1", "vnet1"), "InvalidInstanceId.NotFound");
        Refused(() => _server.Hosts.Bind("not-an-id", "node-1", "vnet1"), "InvalidInstanceId.Malformed");
        Refused(() => _server.Hosts.Bind(_instances[1], "node-undeclared", "vnet1"), "InvalidHostName.NotDeclared");
        Refused(() => _server.Hosts.Unbind(_instances[1]), "InvalidInstanceId.NotBound");
        Refused(() => HostDeclaration.Parse("vnet*", "10.0.0.1/8"), "InvalidHostDeclaration.Malformed");
        Refused(() => HostDeclaration.Parse("vnet/*", "10.0.0.0/8"), "InvalidHostDeclaration.Malformed");
        Refused(() => HostDeclaration.Parse("vnet*", "10.0.0.0"), "InvalidHostDeclaration.Malformed");
        Assert.Equal(before, _server.Store.CurrentRevision());
    }

    /// <summary>
    /// Issue 17 (the fleet's seeding): <see cref="Palisade.Storage.Hosts.HostService.BindAll"/> binds
    /// as one <c>Bind</c> each (its slow twin, on another host) but in one write of the owner, and a
    /// refusal of any of its NICs binds none of them.
    /// </summary>
    [Fact]
    public async Task BindAll_BindsAsOneBindEach_InOneWrite_AndARefusalBindsNone()
    {
        var more = await _a.RunAsync(_group, _vsw, amount: 3);
        foreach (var host in new[] { "node-x", "node-y" })
            _server.Hosts.Declare(host, HostDeclaration.Parse("vnet*", "0.0.0.0/0 ::/0"));
        for (var i = 0; i < _instances.Count; i++)
            _server.Hosts.Bind(_instances[i], "node-x", $"vnet{i}");
        var before = _server.Store.CurrentRevision();
        var bound = _server.Hosts.BindAll("node-y", [.. more.Select((id, i) => (id, $"vnet{i}"))]);
        Assert.Equal(before + 1, _server.Store.CurrentRevision());
        Assert.Equal(more, bound.Select(b => b.InstanceId.Value));
        static List<(string, long, bool)> Shape(IEnumerable<Palisade.Storage.Records.HostBindingRecord> bindings) =>
            [.. bindings.Select(b => (b.InterfaceName, b.AccountId, b.NetworkInterfaceId is not null))];
        Assert.Equal(Shape(_server.Hosts.ListBindings("node-x")), Shape(_server.Hosts.ListBindings("node-y")));
        Assert.Equal(more, (await Interfaces(_a, "node-y")).Select(i => i.Str("InstanceId")));
        var trail = (await _a.Api.CallAsync("DescribeActionTrail", new { ActionName = "BindHostInterface", MaxResults = 100 })).Items("Events", "Event").Select(e => e.Str("RequestParameters")).ToList();
        Assert.All(more, id => Assert.Single(trail, p => p.Contains(id, StringComparison.Ordinal) && p.Contains("node-y", StringComparison.Ordinal)));

        var late = await _a.RunAsync(_group, _vsw, amount: 2);
        before = _server.Store.CurrentRevision();
        Refused(() => _server.Hosts.BindAll("node-y", [(late[0], "vnet7"), (late[1], "eth0")]), "InvalidInterfaceName.OutsideDeclaration");
        Refused(() => _server.Hosts.BindAll("node-y", [(late[0], "vnet7"), (late[1], "vnet0")]), "InvalidInterfaceName.InUse");
        Refused(() => _server.Hosts.BindAll("node-y", [(late[0], "vnet7"), ("i-bp1doesnotexist00", "vnet8")]), "InvalidInstanceId.NotFound");
        Refused(() => _server.Hosts.BindAll("node-undeclared", [(late[0], "vnet7")]), "InvalidHostName.NotDeclared");
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.DoesNotContain(late[0], _server.Hosts.ListBindings(null).Select(b => b.InstanceId.Value));
    }

    /// <summary>
    /// Issue 17 (seeding 10,000 hosts): <see cref="Palisade.Storage.Hosts.HostService.DeclareAll"/> and
    /// <see cref="Palisade.Storage.Hosts.HostService.CreateCredentials"/> leave what one
    /// <c>Declare</c> / <c>CreateCredential</c> each leaves (their slow twins, on other hosts), in one
    /// write each; a refusal of any host declares none; the credentials sign their host's requests.
    /// </summary>
    [Fact]
    public async Task DeclareAllAndCreateCredentials_AreOneCallEach_InOneWrite_AndARefusalDeclaresNone()
    {
        var narrow = HostDeclaration.Parse("vnet*", "192.168.1.0/24");
        var wide = HostDeclaration.Parse("tap*, vnet*", "0.0.0.0/0 ::/0");
        _server.Hosts.Declare("one-a", narrow);
        _server.Hosts.Declare("one-b", wide);
        var before = _server.Store.CurrentRevision();
        var declared = _server.Hosts.DeclareAll([("all-a", narrow), ("all-b", wide)]);
        Assert.Equal(before + 1, _server.Store.CurrentRevision());
        Assert.Equal(["all-a", "all-b"], declared.Select(h => h.HostName));
        var hosts = _server.Hosts.ListHosts().ToDictionary(h => h.HostName);
        foreach (var (one, all) in new[] { ("one-a", "all-a"), ("one-b", "all-b") })
        {
            Assert.Equal(hosts[one].Declaration.Patterns, hosts[all].Declaration.Patterns);
            Assert.Equal(hosts[one].Declaration.Space, hosts[all].Declaration.Space);
        }

        _server.Hosts.CreateCredential("one-a");
        _server.Hosts.CreateCredential("one-new");
        before = _server.Store.CurrentRevision();
        var made = _server.Hosts.CreateCredentials(["all-a", "all-new"]);
        Assert.Equal(before + 1, _server.Store.CurrentRevision());
        Assert.Equal(["all-a", "all-new"], made.Select(c => c.HostName));
        Assert.Equal(2, made.Select(c => c.AccessKeyId).Distinct().Count());
        Assert.All(made, c => Assert.Matches("^LTAI[A-Za-z0-9]{20}$", c.AccessKeyId));
        Assert.All(made, c => Assert.Equal(30, c.AccessKeySecret.Length));
        // A host that got a credential before any declaration carries nothing, as with one call.
        Assert.Equal(_server.Hosts.ListHosts().Single(h => h.HostName == "one-new").Declaration.Patterns,
            _server.Hosts.ListHosts().Single(h => h.HostName == "all-new").Declaration.Patterns);
        Assert.Equal(["all-a"], _server.Hosts.ListCredentials("all-a").Select(c => c.HostName));
        // The credential made in the batch signs its host's agent requests.
        _server.Hosts.Bind(_instances[0], "all-a", "vnet0");
        var agent = new EcsClient(_server.Http, new ClientCredentials(made[0].AccessKeyId, made[0].AccessKeySecret));
        Assert.Equal([_instances[0]], (await Policy(agent)).Items("HostInterfaces", "HostInterface").Select(i => i.Str("InstanceId")));

        // all-a carries _instances[0] on vnet0 in 192.168.1.0/24: narrowing it away is refused, and refuses the whole batch.
        before = _server.Store.CurrentRevision();
        Refused(() => _server.Hosts.DeclareAll([("all-c", wide), ("all-a", HostDeclaration.Parse("tap*", "192.168.1.0/24"))]), "InvalidInterfaceName.OutsideDeclaration");
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.DoesNotContain("all-c", _server.Hosts.ListHosts().Select(h => h.HostName));
    }

    /// <summary>Issue 18 item 2: a host carries only the interfaces and addresses it declares.</summary>
    [Fact]
    public void BindingsOutsideTheHostsDeclaration_AreRefused()
    {
        // The instances have addresses in 192.168.1.0/24 (Scenario's vSwitch).
        _server.Hosts.Declare("node-d", HostDeclaration.Parse("vnet*, tap-*-0", "192.168.1.0/25,2001:db8::/32"));
        var declared = Assert.Single(_server.Hosts.ListHosts(), h => h.HostName == "node-d");
        Assert.Equal("vnet* tap-*-0", declared.Declaration.Patterns);
        Assert.Equal("192.168.1.0/25 2001:db8::/32", declared.Declaration.Space);
        _server.Hosts.Bind(_instances[0], "node-d", "vnet0");
        _server.Hosts.Bind(_instances[1], "node-d", "tap-x-0");
        var before = _server.Store.CurrentRevision();
        Refused(() => _server.Hosts.Bind(_instances[2], "node-d", "eth1"), "InvalidInterfaceName.OutsideDeclaration");
        Refused(() => _server.Hosts.Bind(_instances[2], "node-d", "tap-x-1"), "InvalidInterfaceName.OutsideDeclaration");
        // A public block claimed by a tenant's "private" address, say: refused by the host's address space.
        _server.Hosts.Declare("node-e", HostDeclaration.Parse("vnet*", "198.18.0.0/15"));
        var e = Assert.Throws<EcsException>(() => _server.Hosts.Bind(_instances[2], "node-e", "vnet0"));
        Assert.Equal("InvalidInstanceId.AddressOutsideDeclaration", e.Error.Code);
        Assert.Contains("198.18.0.0/15", e.Error.Message, StringComparison.Ordinal);
        // Narrowing a declaration under a NIC bound to it is refused; so is declaring nothing for a host with NICs.
        var revision = _server.Store.CurrentRevision();
        Refused(() => _server.Hosts.Declare("node-d", HostDeclaration.Parse("vnet*", "192.168.1.0/25")), "InvalidInterfaceName.OutsideDeclaration");
        Assert.Equal(revision, _server.Store.CurrentRevision());
        Assert.Equal(2, _server.Hosts.ListBindings("node-d").Count);
        Assert.True(before < revision); // node-e's declaration was the only change
        // A host that got a credential before any declaration carries nothing.
        _server.Hosts.CreateCredential("node-new");
        Refused(() => _server.Hosts.Bind(_instances[2], "node-new", "vnet0"), "InvalidInterfaceName.OutsideDeclaration");
    }

    [Fact]
    public async Task Tenants_CannotBind_ReadAHostsPolicy_OrReport()
    {
        _server.Bind(_instances[0], "node-1", "vnet0");
        var before = _server.Store.CurrentRevision();
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = _instances[1], HostName = "node-1", InterfaceName = "vnet1" }),
            "Forbidden.OperatorAct", 403);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("UnbindHostInterface", new { RegionId = Region, InstanceId = _instances[0] }), "Forbidden.OperatorAct", 403);
        await ApiAssert.FailsAsync(() => Policy(_a.Api, "node-1"), "Forbidden.HostCredentialRequired", 403);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = "1000", InstanceId = new[] { _instances[0] } }),
            "Forbidden.HostCredentialRequired", 403);
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.False(Assert.Single(await Interfaces(_a)).GetProperty("InSync").GetBoolean());
    }

    /// <summary>A host credential calls its own host's agent actions, and every other action of the catalogue is refused.</summary>
    /// <summary>
    /// An operator's bind, move and unbind of a tenant's NIC are on that tenant's action trail (issue
    /// 18): the NIC, the host and the interface, with the revision the tenant's feed shows — no key,
    /// no API version; a refused attempt and a bind that changes nothing are not.
    /// </summary>
    [Fact]
    public async Task TheOperatorsBindsAndUnbinds_AreOnTheTenantsTrail()
    {
        async Task<List<JsonElement>> Trail(string action) =>
            [.. (await _a.Api.CallAsync("DescribeActionTrail", new { ActionName = action, MaxResults = 100 })).Items("Events", "Event")];
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var eni = (await _a.InstanceAsync(_instances[0])).GetProperty("NetworkInterfaces").GetProperty("NetworkInterface")[0].Str("NetworkInterfaceId");
        _server.Bind(_instances[0], "node-1", "vnet0");
        _server.Bind(_instances[0], "node-1", "vnet0");                          // again, the same: no change, no event
        Assert.Throws<EcsException>(() => _server.Bind(_instances[1], "node-1", "vnet0")); // refused: no event
        _server.Hosts.BindNetworkInterface(eni, "node-1", "vnet5");              // a move
        _server.Hosts.Unbind(_instances[0]);

        var binds = await Trail("BindHostInterface");
        Assert.Equal(2, binds.Count);
        var (moved, first) = (binds[0], binds[1]);                               // newest first
        Assert.Equal($$"""{"InstanceId":"{{_instances[0]}}","NetworkInterfaceId":"{{eni}}","HostName":"node-1","InterfaceName":"vnet0"}""", first.Str("RequestParameters"));
        Assert.Contains("\"InterfaceName\":\"vnet5\"", moved.Str("RequestParameters"), StringComparison.Ordinal);
        var unbind = Assert.Single(await Trail("UnbindHostInterface"));
        Assert.Equal($$"""{"InstanceId":"{{_instances[0]}}","NetworkInterfaceId":"{{eni}}","HostName":"node-1","InterfaceName":"vnet5"}""", unbind.Str("RequestParameters"));
        var feed = (await _a.Api.CallAsync("DescribeChanges", new { AfterRevision = "0", MaxResults = 1000 })).Items("Changes", "Change")
            .ToDictionary(c => c.GetProperty("Revision").GetInt64().ToString(CultureInfo.InvariantCulture), c => c.Str("Action"));
        foreach (var e in new[] { first, moved, unbind })
        {
            Assert.Equal(("", "", 200, "OK"), (e.Str("AccessKeyId"), e.Str("ApiVersion"), e.GetProperty("HttpStatus").GetInt32(), e.Str("ResultCode")));
            Assert.Equal(e.Str("ActionName"), feed[e.Str("Revision")]);            // the tenant's own revision of that change
            Assert.InRange(DateTimeOffset.Parse(e.Str("EventTime"), CultureInfo.InvariantCulture), started, DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.Matches("^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$", e.Str("RequestId"));
        }
    }

    [Fact]
    public async Task AHostCredential_CallsOnlyItsHostsAgentActions()
    {
        _server.Bind(_instances[0], "node-1", "vnet0");
        var node1 = _server.HostClient("node-1");
        var agentActions = new HashSet<string> { "DescribeHostPolicy", "DescribeChanges", "ReportAgentStatus" };
        var before = _server.Store.CurrentRevision();
        var state = _server.Store.Read(s => Server.Actions.Insight.StateExport.Json(s, _accountId, Region));
        foreach (var action in ActionCatalog.FromAssembly().All.Where(a => !agentActions.Contains(a.Name)))
        {
            var e = await ApiAssert.FailsAsync(() => node1.CallAsync(action.Name, new { RegionId = Region, SecurityGroupId = _group, InstanceId = _instances[0] }, action.Version),
                "Forbidden.HostCredential", 403);
            Assert.Contains("node-1", e.EcsMessage, StringComparison.Ordinal);
        }
        await ApiAssert.FailsAsync(() => Policy(node1, "node-2"), "Forbidden.HostCredential", 403);
        await ApiAssert.FailsAsync(() => node1.CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-2", AppliedRevision = "1" }), "Forbidden.HostCredential", 403);
        await ApiAssert.FailsAsync(() => node1.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = _instances[1], HostName = "node-1", InterfaceName = "vnet1" }),
            "Forbidden.OperatorAct", 403);
        Assert.Equal(before, _server.Store.CurrentRevision());
        Assert.Equal(state, _server.Store.Read(s => Server.Actions.Insight.StateExport.Json(s, _accountId, Region)));

        // Its own host, with or without HostName; a cached answer of one host is never another's.
        Assert.Single((await Policy(node1, "node-1")).Items("HostInterfaces", "HostInterface"));
        Assert.Single((await Policy(node1)).Items("HostInterfaces", "HostInterface"));
        Assert.Empty((await Policy(_server.HostClient("node-2"))).Items("HostInterfaces", "HostInterface"));
        Assert.True((await node1.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64() > 0);
    }

    /// <summary>One host carries NICs of several accounts; its policy gives each account's NICs with that account's state only.</summary>
    [Fact]
    public async Task AHostsPolicy_CarriesEveryAccountsNics_EachWithItsOwnState_AndNoOtherHosts()
    {
        var b = new Scenario(_server.Client(_server.NewAccount("tenant-b")));
        var bVpc = await b.VpcAsync(); // the same block as A's: overlapping addresses are the normal case
        var bGroup = await b.GroupAsync(bVpc, "b-web");
        var bInstances = await b.RunAsync(bGroup, await b.VSwitchAsync(bVpc), amount: 2);
        _server.Bind(_instances[0], "node-1", "vnet0");
        _server.Bind(bInstances[0], "node-1", "vnet1");
        _server.Bind(bInstances[1], "node-2", "vnet0");

        var policy = await Policy(_server.HostClient("node-1"));
        Assert.Equal(["vnet0", "vnet1"], policy.Items("HostInterfaces", "HostInterface").Select(i => i.Str("InterfaceName")));
        var accounts = policy.Items("Accounts", "Account").ToList();
        Assert.Equal(2, accounts.Count);
        foreach (var account in accounts)
        {
            var instances = account.GetProperty("State").GetProperty("Instances").EnumerateArray().Select(i => i.Str("InstanceId")).ToHashSet();
            var groups = account.GetProperty("State").GetProperty("SecurityGroups").EnumerateArray().Select(g => g.Str("SecurityGroupId")).ToHashSet();
            if (account.Str("AccountId") == _accountId.ToString(CultureInfo.InvariantCulture))
            {
                Assert.Contains(_instances[0], instances);
                Assert.DoesNotContain(bGroup, groups);
                Assert.DoesNotContain(bInstances[0], instances);
            }
            else
            {
                Assert.Equal(new HashSet<string> { bInstances[0], bInstances[1] }, instances); // b-web's members (its inner access): both
                Assert.Equal(new HashSet<string> { bGroup }, groups);
            }
        }

        // Each tenant sees its own NICs' status, never the other's bindings, hosts or interface names.
        Assert.Equal([_instances[0]], (await Interfaces(_a)).Select(i => i.Str("InstanceId")));
        var bSees = await Interfaces(b);
        Assert.Equal(new[] { bInstances[0], bInstances[1] }.Order(), bSees.Select(i => i.Str("InstanceId")).Order());
        Assert.DoesNotContain(bSees, i => i.Str("InterfaceName") == "vnet0" && i.Str("HostName") == "node-1");

        // One report from the host speaks for both accounts' NICs, each at its own account's revision.
        var node1 = _server.HostClient("node-1");
        await Report(node1, (await Policy(node1)).GetProperty("Revision").GetInt64(), _instances[0], bInstances[0]);
        Assert.True((await Interfaces(_a)).Single().GetProperty("InSync").GetBoolean());
        Assert.True((await Interfaces(b, "node-1")).Single().GetProperty("InSync").GetBoolean());
        Assert.False((await Interfaces(b, "node-2")).Single().GetProperty("InSync").GetBoolean());
    }

    /// <summary>The host's feed wakes for its accounts' changes that concern its NICs and its bindings' changes, and for nothing else.</summary>
    [Fact]
    public async Task TheHostsFeed_HasItsAccountsChangesAndItsBindings_Only()
    {
        var b = new Scenario(_server.Client(_server.NewAccount("tenant-b")));
        var bVpc = await b.VpcAsync();
        var bGroup = await b.GroupAsync(bVpc, "b-web");
        var bInstance = (await b.RunAsync(bGroup, await b.VSwitchAsync(bVpc))).Single();
        _server.Bind(_instances[0], "node-1", "vnet0");
        var node1 = _server.HostClient("node-1");
        async Task<List<long>> After(long revision) =>
            [.. (await node1.CallAsync("DescribeChanges", new { AfterRevision = revision.ToString(CultureInfo.InvariantCulture) })).Items("Changes", "Change").Select(c => c.GetProperty("Revision").GetInt64())];

        var start = (await Policy(node1)).GetProperty("Revision").GetInt64();
        Assert.Empty(await After(start));
        await b.GroupAsync(bVpc, "unrelated");                 // B has nothing on node-1
        Assert.Empty(await After(start));
        await _a.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        var afterA = await After(start);
        Assert.Single(afterA);
        _server.Bind(bInstance, "node-1", "vnet1");            // B arrives: the bind is on the feed, B's earlier changes (which never concerned node-1) are not
        Assert.Equal([afterA[0], _server.Store.CurrentRevision()], await After(start));
        _server.Hosts.Unbind(bInstance);                       // and leaves: the host still hears of it
        var afterLeave = await After(afterA[0]);
        Assert.Equal(2, afterLeave.Count);
        await b.GroupAsync(bVpc, "later");                     // gone: B's changes no longer concern node-1
        Assert.Equal(afterLeave, await After(afterA[0]));

        // A long poll parked on the host's feed is woken by a bind on the host.
        var waiting = node1.CallAsync("DescribeChanges", new { AfterRevision = afterLeave[^1].ToString(CultureInfo.InvariantCulture), WaitSeconds = 20 });
        await Task.Delay(300);
        _server.Bind(_instances[1], "node-1", "vnet2");
        var woke = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(woke.Items("Changes", "Change"));
    }

    /// <summary>
    /// An agent gets only what its NICs' policies depend on, and renders from it exactly the
    /// ruleset it would render from the whole account.
    /// </summary>
    [Fact]
    public async Task HostPolicy_HoldsOnlyWhatTheHostsNicsDependOn_AndRendersAsTheWholeAccount()
    {
        var vpc = (await _a.Api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = _group })).Str("VpcId");
        var vsw = await _a.VSwitchAsync(vpc, "192.168.2.0/24");
        var db = await _a.GroupAsync(vpc, "db");
        var cache = await _a.GroupAsync(vpc, "cache");
        var unrelated = await _a.GroupAsync(vpc, "unrelated");
        await _a.AuthorizeAsync(db, new { IpProtocol = "TCP", PortRange = "5432/5432", SourceGroupId = _group });
        await _a.AuthorizeAsync(db, new { IpProtocol = "TCP", PortRange = "6379/6379", DestGroupId = cache }, egress: true);
        await _a.AuthorizeAsync(unrelated, new { IpProtocol = "TCP", PortRange = "22/22", SourceGroupId = db });
        var dbInstance = (await _a.RunAsync(db, vsw))[0];
        var cacheInstance = (await _a.RunAsync(cache, vsw))[0];
        var loner = (await _a.RunAsync(unrelated, vsw))[0];
        var elsewhere = await _a.GroupAsync(vpc, "elsewhere");
        await _a.Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = cacheInstance, SecurityGroupId = elsewhere });
        _server.Bind(dbInstance, "node-9", "vnet0");

        var policy = await Policy(_server.HostClient("node-9"));
        var state = Assert.Single(policy.Items("Accounts", "Account")).GetProperty("State");
        var groups = state.GetProperty("SecurityGroups").EnumerateArray().Select(g => g.Str("SecurityGroupId")).ToHashSet();
        var instances = state.GetProperty("Instances").EnumerateArray().Select(i => i.Str("InstanceId")).ToHashSet();
        // db, the groups its rules name, and (so that the file reads back) every group of an instance in it.
        Assert.Equal(new HashSet<string> { db, _group, cache, elsewhere }, groups);
        Assert.Contains(cacheInstance, instances);
        Assert.Contains(_instances[0], instances); // a member of the group db lets in
        Assert.DoesNotContain(loner, instances);
        Assert.DoesNotContain(unrelated, groups);

        var whole = Domain.State.StateFileReader.Read(_server.Store.Read(s => Server.Actions.Insight.StateExport.Json(s, _accountId, Region)));
        var part = Domain.State.StateFileReader.Read(state.GetRawText());
        var bindings = new[] { new Agent.Rendering.HostBinding(Domain.Identifiers.InstanceId.Parse(dbInstance), "vnet0") };
        Assert.Equal(Agent.Rendering.NftText.FullApply(Agent.Rendering.PolicyRenderer.Render(whole, bindings, 1)),
            Agent.Rendering.NftText.FullApply(Agent.Rendering.PolicyRenderer.Render(part, bindings, 1)));
    }

    // Issue 16 item 6: bindings per ENI

    private async Task<string> EniAsync(string group, string? attachTo, string? vSwitch = null)
    {
        var eni = (await _a.Api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vSwitch ?? _vsw, SecurityGroupId = group })).Str("NetworkInterfaceId");
        if (attachTo is not null)
            await _a.Api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = attachTo });
        return eni;
    }

    private async Task<string> PrimaryEniAsync(string instance) =>
        (await _a.Api.CallAsync("DescribeNetworkInterfaces", new { RegionId = Region, InstanceId = instance, Type = "Primary" }))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("NetworkInterfaceId");

    /// <summary>
    /// An instance's secondary ENI sits on its own interface: listed, fetched, rendered with its own
    /// groups and reported per ENI; the --instance form is the primary ENI.
    /// </summary>
    [Fact]
    public async Task ASecondaryEni_IsItsOwnNic_OnItsOwnInterface_FetchedRenderedAndReportedPerEni()
    {
        var db = await _a.GroupAsync(_vpc, "db");
        await _a.AuthorizeAsync(db, new { IpProtocol = "TCP", PortRange = "5432/5432", SourceCidrIp = "192.168.0.0/16" });
        await _a.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "80/80", SourceCidrIp = "192.168.0.0/16" });
        var eni = await EniAsync(db, _instances[0]);
        var primary = await PrimaryEniAsync(_instances[0]);
        var byInstance = _server.Bind(_instances[0], "node-1", "vnet0");
        Assert.Equal(primary, byInstance.NetworkInterfaceId?.Value);
        var bound = _server.Hosts.BindNetworkInterface(eni, "node-1", "vnet1");
        Assert.Equal((eni, _instances[0]), (bound.Nic, bound.InstanceId.Value));
        // Binding the primary ENI by its ID is the same binding as by instance.
        Assert.Equal(byInstance, _server.Hosts.BindNetworkInterface(primary, "node-1", "vnet0"));

        var listed = await Interfaces(_a, "node-1");
        Assert.Equal([("vnet0", primary, _instances[0]), ("vnet1", eni, _instances[0])], listed.Select(i => (i.Str("InterfaceName"), i.Str("NetworkInterfaceId"), i.Str("InstanceId"))));
        var node1 = _server.HostClient("node-1");
        var policy = await Policy(node1);
        Assert.Equal([primary, eni], policy.Items("HostInterfaces", "HostInterface").Select(i => i.Str("NetworkInterfaceId")));

        // The agent's own reading of that answer: two NICs, each with its own groups' rules and its own addresses.
        var plane = new Agent.Following.EcsControlPlane(node1, Region);
        var fetched = await plane.FetchAsync("node-1", CancellationToken.None);
        var ruleset = Agent.Rendering.PolicyRenderer.Render(fetched.Parts, fetched.Revision);
        Assert.Empty(ruleset.Problems);
        var eniAddress = (await _a.Api.CallAsync("DescribeNetworkInterfaces", new { RegionId = Region, NetworkInterfaceId = new[] { eni } }))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("PrivateIpAddress");
        var data = ruleset.Nics.Single(n => n.InterfaceName == "vnet1");
        Assert.Equal((eni, eniAddress), (data.Name, Assert.Single(data.Addresses).ToString()));
        Assert.Single(data.Ingress.CountedRules);
        Assert.DoesNotContain(data.Ingress.CountedRules, r => ruleset.Nics.Single(n => n.InterfaceName == "vnet0").Ingress.CountedRules.Contains(r));

        // Reported per ENI: the ENI in sync, the primary not until it is reported too.
        var revision = policy.GetProperty("Revision").GetInt64();
        await node1.CallAsync("ReportAgentStatus", new { RegionId = Region, AppliedRevision = revision, NetworkInterfaceId = new[] { eni } });
        Assert.Equal([false, true], (await Interfaces(_a, "node-1")).Select(i => i.GetProperty("InSync").GetBoolean()));
        await plane.ReportAsync("node-1", revision, [.. ruleset.Nics.Select(n => n.Ref)], CancellationToken.None);
        Assert.All(await Interfaces(_a, "node-1"), i => Assert.True(i.GetProperty("InSync").GetBoolean()));
        var all = _server.Hosts.ListBindings("node-1");
        Assert.Equal([primary, eni], all.Select(b => b.Nic));
    }

    [Fact]
    public async Task BindingAnEni_IsCheckedAgainstItsOwnAddresses_AndRefusedWithTheCataloguedCode()
    {
        var vswOther = await _a.VSwitchAsync(_vpc, "192.168.2.0/24");
        var outside = await EniAsync(_group, _instances[0], vswOther);
        var loose = await EniAsync(_group, attachTo: null);
        _server.Hosts.Declare("node-d", HostDeclaration.Parse("vnet*", "192.168.1.0/24"));
        _server.Hosts.Bind(_instances[0], "node-d", "vnet0"); // its primary ENI's address is inside
        var before = _server.Store.CurrentRevision();
        var e = Assert.Throws<EcsException>(() => _server.Hosts.BindNetworkInterface(outside, "node-d", "vnet1"));
        Assert.Equal("InvalidInstanceId.AddressOutsideDeclaration", e.Error.Code);
        Assert.Contains(outside, e.Error.Message, StringComparison.Ordinal);
        Refused(() => _server.Hosts.BindNetworkInterface(loose, "node-d", "vnet1"), "InvalidOperation.InvalidEniState");
        Refused(() => _server.Hosts.BindNetworkInterface("eni-doesnotexist000", "node-d", "vnet1"), "InvalidEniId.NotFound");
        Refused(() => _server.Hosts.BindNetworkInterface("not-an-eni", "node-d", "vnet1"), "InvalidEniId.NotFound");
        var inUse = Assert.Throws<EcsException>(() => _server.Hosts.BindNetworkInterface(outside, "node-1-undeclared", "vnet1"));
        Assert.Equal("InvalidHostName.NotDeclared", inUse.Error.Code);
        Refused(() => _server.Hosts.UnbindNetworkInterface(outside), "InvalidEniId.NotBound");
        // An interface carrying a NIC names that NIC: the ENI.
        var onInterface = Assert.Throws<EcsException>(() => _server.Hosts.Bind(_instances[1], "node-d", "vnet0"));
        Assert.Equal("InvalidInterfaceName.InUse", onInterface.Error.Code);
        Assert.Contains(await PrimaryEniAsync(_instances[0]), onInterface.Error.Message, StringComparison.Ordinal);
        Assert.Equal(before, _server.Store.CurrentRevision());
        // Widening the declaration admits it; narrowing back under it is refused.
        _server.Hosts.Declare("node-d", HostDeclaration.Parse("vnet*", "192.168.0.0/16"));
        _server.Hosts.BindNetworkInterface(outside, "node-d", "vnet1");
        Refused(() => _server.Hosts.Declare("node-d", HostDeclaration.Parse("vnet*", "192.168.1.0/24")), "InvalidInstanceId.AddressOutsideDeclaration");
        Assert.Equal(outside, _server.Hosts.UnbindNetworkInterface(outside).Nic);
    }

    /// <summary>
    /// An ENI detached while bound leaves its host, exactly as an instance deleted while bound does:
    /// the binding is gone in the same commit, the host's feed hears of it (its agent drops the port's
    /// chains and leaves the port closed), and attaching it again does not bind it again. Deleting the
    /// instance detaches its secondary ENIs: their bindings go with it.
    /// </summary>
    [Fact]
    public async Task AnEniDetachedWhileBound_LeavesItsHost_AsADeletedInstanceDoes()
    {
        var eni = await EniAsync(_group, _instances[0]);
        _server.Bind(_instances[1], "node-1", "vnet0");
        _server.Hosts.BindNetworkInterface(eni, "node-1", "vnet1");
        var node1 = _server.HostClient("node-1");
        var start = (await Policy(node1)).GetProperty("Revision").GetInt64();
        await _a.Api.CallAsync("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = _instances[0] });
        Assert.Equal(["vnet0"], (await Interfaces(_a, "node-1")).Select(i => i.Str("InterfaceName")));
        Assert.Equal(["vnet0"], (await Policy(node1)).Items("HostInterfaces", "HostInterface").Select(i => i.Str("InterfaceName")));
        var woke = (await node1.CallAsync("DescribeChanges", new { AfterRevision = start.ToString(CultureInfo.InvariantCulture) })).Items("Changes", "Change").ToList();
        Assert.Contains(woke, c => c.Str("Action") == "DetachNetworkInterface");
        Refused(() => _server.Hosts.UnbindNetworkInterface(eni), "InvalidEniId.NotBound");

        await _a.Api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = _instances[2] });
        Assert.Single(await Interfaces(_a, "node-1"));
        _server.Hosts.Declare("node-2", HostDeclaration.Parse("tap*", "192.168.0.0/16"));
        _server.Hosts.BindNetworkInterface(eni, "node-2", "tap1");
        await _a.Api.CallAsync("DeleteInstances", new Dictionary<string, string> { ["RegionId"] = Region, ["InstanceId.1"] = _instances[2], ["Force"] = "true" });
        Assert.Empty(_server.Hosts.ListBindings("node-2"));
        Assert.Equal("Available", (await _a.Api.CallAsync("DescribeNetworkInterfaces", new { RegionId = Region, NetworkInterfaceId = new[] { eni } }))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").Single().Str("Status"));
        // Deleting the ENI now (Available, unbound) leaves the other bindings alone.
        await _a.Api.CallAsync("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni });
        Assert.Single(_server.Hosts.ListBindings("node-1"));
    }

    /// <summary>
    /// A backup made before bindings were per ENI (its host_bindings rows have no network_interface_id)
    /// restores with each binding on its instance's primary ENI, as migration 011 moves existing rows;
    /// a backup made now keeps the secondary ENI's binding.
    /// </summary>
    [Fact]
    public async Task Backups_KeepBindingsPerEni_AndOldBackupsBindThePrimaryEni()
    {
        var eni = await EniAsync(_group, _instances[0]);
        _server.Bind(_instances[0], "node-1", "vnet0");
        _server.Hosts.BindNetworkInterface(eni, "node-1", "vnet1");
        var primary = await PrimaryEniAsync(_instances[0]);
        using var written = new MemoryStream();
        Storage.Backup.StoreBackup.Write(_server.Store, written);
        var document = System.Text.Json.Nodes.JsonNode.Parse(written.ToArray())!;

        HostBindingRecordView[] Restored(System.Text.Json.Nodes.JsonNode backup)
        {
            var directory = Directory.CreateTempSubdirectory("palisade-restore-").FullName;
            try
            {
                using var store = Storage.StoreFactory.Open(null, directory);
                Storage.Backup.StoreBackup.Restore(store, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(backup.ToJsonString())));
                return [.. store.Read(s => s.ListBindingsOnHost("node-1")).Select(b => new HostBindingRecordView(b.InterfaceName, b.Nic, b.InstanceId.Value))];
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        Assert.Equal([new("vnet0", primary, _instances[0]), new("vnet1", eni, _instances[0])], Restored(document));
        // The old format: one binding per instance, no ENI column.
        var rows = document["tables"]!["host_bindings"]!.AsArray();
        rows.RemoveAt(1);
        foreach (var row in rows)
            row!.AsObject().Remove("network_interface_id");
        Assert.Equal([new("vnet0", primary, _instances[0])], Restored(document));
    }

    private sealed record HostBindingRecordView(string InterfaceName, string Nic, string InstanceId);
}
