using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Actions;

/// <summary>The enforcement extension: binding NICs to hosts, what agents read, what they report, and who is in sync.</summary>
public sealed class HostBindingTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;
    private Scenario _a = null!;
    private string _group = null!;
    private List<string> _instances = null!;

    private long _accountId;

    public async Task InitializeAsync()
    {
        _server = await TestControlPlane.StartAsync();
        var key = _server.NewAccount("hosts");
        _accountId = key.AccountId;
        _a = new Scenario(_server.Client(key));
        var vpc = await _a.VpcAsync();
        _group = await _a.GroupAsync(vpc);
        _instances = await _a.RunAsync(_group, await _a.VSwitchAsync(vpc), amount: 3);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task Bind(string instance, string host, string ifname) =>
        _a.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = instance, HostName = host, InterfaceName = ifname });

    private async Task<List<System.Text.Json.JsonElement>> Interfaces(string? host = null) =>
        [.. (await _a.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region, HostName = host })).Items("HostInterfaces", "HostInterface")];

    [Fact]
    public async Task Bindings_AreListed_AndInSyncOnlyOnceTheAgentReportsTheLatestRevision()
    {
        await Bind(_instances[0], "node-1", "vnet0");
        await Bind(_instances[1], "node-1", "vnet1");
        await Bind(_instances[2], "node-2", "vnet0");
        var listed = await Interfaces("node-1");
        Assert.Equal(["vnet0", "vnet1"], listed.Select(i => i.Str("InterfaceName")));
        Assert.All(listed, i => Assert.False(i.GetProperty("InSync").GetBoolean()));

        var policy = await _a.Api.CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = "node-1" });
        var revision = policy.GetProperty("Revision").GetInt64();
        Assert.Equal([_instances[0], _instances[1]], policy.Items("HostInterfaces", "HostInterface").Select(i => i.Str("InstanceId")));
        Assert.Equal(3, policy.GetProperty("State").GetProperty("Instances").GetArrayLength());

        await _a.Api.CallAsync("ReportAgentStatus", new Dictionary<string, string>
        {
            ["RegionId"] = Region, ["HostName"] = "node-1", ["AppliedRevision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["InstanceId.1"] = _instances[0], ["InstanceId.2"] = _instances[1],
        });
        // A report is bookkeeping: it leaves no revision, so it never wakes the agents' feed.
        Assert.Equal(revision, _server.Store.Read(s => s.LatestRevision(_accountId)));
        Assert.All(await Interfaces("node-1"), i => Assert.True(i.GetProperty("InSync").GetBoolean()));
        Assert.False((await Interfaces("node-2")).Single().GetProperty("InSync").GetBoolean());

        await _a.AuthorizeAsync(_group, new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "10.0.0.0/8" });
        Assert.All(await Interfaces("node-1"), i => Assert.False(i.GetProperty("InSync").GetBoolean()));
    }

    [Fact]
    public async Task BindingAgain_MovesTheInstance_AndUnbindOrDeleteForgetsIt()
    {
        await Bind(_instances[0], "node-1", "vnet0");
        await Bind(_instances[0], "node-2", "tap7");
        var only = Assert.Single(await Interfaces());
        Assert.Equal(("node-2", "tap7"), (only.Str("HostName"), only.Str("InterfaceName")));
        await _a.Api.CallAsync("UnbindHostInterface", new { RegionId = Region, InstanceId = _instances[0] });
        Assert.Empty(await Interfaces());
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("UnbindHostInterface", new { RegionId = Region, InstanceId = _instances[0] }), "InvalidInstanceId.NotBound", 404);

        await Bind(_instances[1], "node-1", "vnet1");
        await _a.Api.CallAsync("DeleteInstances", new Dictionary<string, string> { ["RegionId"] = Region, ["InstanceId.1"] = _instances[1], ["Force"] = "true" });
        Assert.Empty(await Interfaces());
    }

    [Fact]
    public async Task BadInput_IsRefusedWithTheCataloguedCode_AndChangesNothing()
    {
        await Bind(_instances[0], "node-1", "vnet0");
        var before = _server.Store.CurrentRevision();
        await ApiAssert.FailsAsync(() => Bind(_instances[1], "node-1", "vnet0"), "InvalidInterfaceName.InUse", 403);
        await ApiAssert.FailsAsync(() => Bind(_instances[1], "node-1", "a-name-too-long-for-linux"), "InvalidInterfaceName.Malformed", 400);
        await ApiAssert.FailsAsync(() => Bind(_instances[1], "node-1", "eth0/1"), "InvalidInterfaceName.Malformed", 400);
        await ApiAssert.FailsAsync(() => Bind(_instances[1], "-node", "vnet1"), "InvalidHostName.Malformed", 400);
        await ApiAssert.FailsAsync(() => Bind(_instances[1], "node 1", "vnet1"), "InvalidHostName.Malformed", 400);
        await ApiAssert.FailsAsync(() => Bind("i-bp1doesnotexist00", "node-1", "vnet1"), "InvalidInstanceId.NotFound", 404);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = _instances[1], HostName = "node-1" }), "MissingParameter", 400);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = "-3" }), "InvalidAppliedRevision.Malformed", 400);
        await ApiAssert.FailsAsync(() => _a.Api.CallAsync("DescribeHostPolicy", new { RegionId = Region }), "MissingParameter", 400);
        Assert.Equal(before, _server.Store.CurrentRevision());
    }

    [Fact]
    public async Task AnotherAccount_SeesNoneOfIt_AndCannotBindOurInstances()
    {
        await Bind(_instances[0], "node-1", "vnet0");
        var other = new Scenario(_server.Client(_server.NewAccount("other")));
        Assert.Empty((await other.Api.CallAsync("DescribeHostInterfaces", new { RegionId = Region })).Items("HostInterfaces", "HostInterface"));
        Assert.Empty((await other.Api.CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = "node-1" })).Items("HostInterfaces", "HostInterface"));
        await ApiAssert.FailsAsync(() => other.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = _instances[1], HostName = "node-1", InterfaceName = "vnet1" }),
            "InvalidInstanceId.NotFound", 404);
        var readOnly = _server.Client(_server.NewAccount("viewer", readOnly: true));
        await ApiAssert.FailsAsync(() => readOnly.CallAsync("ReportAgentStatus", new { RegionId = Region, HostName = "node-1", AppliedRevision = "1" }), "Forbidden.RAM", 403);
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
        await Bind(dbInstance, "node-9", "vnet0");

        var policy = await _a.Api.CallAsync("DescribeHostPolicy", new { RegionId = Region, HostName = "node-9" });
        var state = policy.GetProperty("State");
        var groups = state.GetProperty("SecurityGroups").EnumerateArray().Select(g => g.Str("SecurityGroupId")).ToHashSet();
        var instances = state.GetProperty("Instances").EnumerateArray().Select(i => i.Str("InstanceId")).ToHashSet();
        // db, the groups its rules name, and (so that the file reads back) every group of an instance in it.
        Assert.Equal(new HashSet<string> { db, _group, cache, elsewhere }, groups);
        Assert.Contains(cacheInstance, instances);
        Assert.Contains(_instances[0], instances); // a member of the group db lets in
        Assert.DoesNotContain(loner, instances);
        Assert.DoesNotContain(unrelated, groups);

        var account = _server.Store.Read(s => s.FindAccountByName("hosts"))!.AccountId;
        var whole = Domain.State.StateFileReader.Read(_server.Store.Read(s => Server.Actions.Analysis.StateExport.Json(s, account, Region)));
        var part = Domain.State.StateFileReader.Read(state.GetRawText());
        var bindings = new[] { new Agent.Rendering.HostBinding(Domain.Identifiers.InstanceId.Parse(dbInstance), "vnet0") };
        Assert.Equal(Agent.Rendering.NftText.FullApply(Agent.Rendering.PolicyRenderer.Render(whole, bindings, 1)),
            Agent.Rendering.NftText.FullApply(Agent.Rendering.PolicyRenderer.Render(part, bindings, 1)));
    }
}
