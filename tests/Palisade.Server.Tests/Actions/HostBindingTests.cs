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

    public async Task InitializeAsync()
    {
        _server = await TestControlPlane.StartAsync();
        _a = new Scenario(_server.Client(_server.NewAccount("hosts")));
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
        Assert.Equal(revision, _server.Store.CurrentRevision());
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
}
