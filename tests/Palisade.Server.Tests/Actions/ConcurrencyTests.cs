using Palisade.Client;
using Palisade.Domain.Quotas;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;
using Palisade.Storage.Accounts;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Limits and invariants hold under concurrent requests, on two server nodes sharing one store:
/// they are enforced inside the store's write transaction, not by anything in one process.
/// (On SQLite the two nodes share the database file; on PostgreSQL, the database.)
/// </summary>
public sealed class ConcurrencyTests : IAsyncLifetime
{
    private TestControlPlane _first = null!;
    private TestControlPlane _second = null!;
    private Scenario _a = null!;
    private Scenario _b = null!;
    private Palisade.Storage.Accounts.AccountService.NewKey _key = null!;

    public async Task InitializeAsync()
    {
        _first = await TestControlPlane.StartAsync(new Limits { GroupsPerRegion = 1000 });
        _second = await TestControlPlane.StartAsync(new Limits { GroupsPerRegion = 1000 }, sameStoreAs: _first);
        _key = _first.NewAccount("shared");
        _a = new Scenario(_first.Client(_key));
        _b = new Scenario(_second.Client(_key));
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    private Scenario Node(int i) => i % 2 == 0 ? _a : _b;

    [Fact]
    public async Task FiftyJoinsAtOnce_OnlyAsManyAsTheLimitAllows()
    {
        var vpc = await _a.VpcAsync();
        var vsw = await _a.VSwitchAsync(vpc);
        var home = await _a.GroupAsync(vpc, "home");
        var instance = (await _a.RunAsync(home, vsw)).Single();
        var groups = new List<string>();
        for (var i = 0; i < 50; i++)
            groups.Add(await Node(i).GroupAsync(vpc, $"join{i}"));

        var outcomes = await Task.WhenAll(groups.Select((g, i) => Outcome(() => Node(i).Api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = instance, SecurityGroupId = g }))));
        Assert.Equal(4, outcomes.Count(o => o == "ok"));
        Assert.All(outcomes.Where(o => o != "ok"), o => Assert.Equal("InstanceSecurityGroupLimitExceeded", o));
        Assert.Equal(5, (await _b.InstanceAsync(instance)).Items("SecurityGroupIds", "SecurityGroupId").Count());
    }

    [Fact]
    public async Task ThreeHundredAuthorizesAtOnce_ExactlyTwoHundredRules()
    {
        var sg = await _a.GroupAsync(await _a.VpcAsync(), "full");
        var outcomes = await Task.WhenAll(Enumerable.Range(1, 300).Select(port =>
            Outcome(() => Node(port).AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "0.0.0.0/0" }))));
        Assert.Equal(200, outcomes.Count(o => o == "ok"));
        Assert.All(outcomes.Where(o => o != "ok"), o => Assert.Equal("AuthorizationLimitExceed", o));
        Assert.Equal(200, (await _b.RulesAsync(sg)).Count);
    }

    [Fact]
    public async Task TheSameRuleAuthorizedAtOnce_IsStoredOnce()
    {
        var sg = await _a.GroupAsync(await _a.VpcAsync(), "same");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Outcome(() => Node(i).AuthorizeAsync(sg, new { IpProtocol = "tcp", PortRange = "443/443", SourceCidrIp = "0.0.0.0/0" }))));
        Assert.All(outcomes, o => Assert.Equal("ok", o));
        Assert.Single(await _a.RulesAsync(sg));
    }

    [Fact]
    public async Task AClientTokenReplayedOnTheOtherNode_GetsTheFirstAnswer()
    {
        var vpc = await _a.VpcAsync();
        var first = await _a.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "once", ClientToken = "node-token" });
        var again = await _b.Api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "once", ClientToken = "node-token" });
        Assert.Equal(first.Str("SecurityGroupId"), again.Str("SecurityGroupId"));
        Assert.Single((await _b.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region, SecurityGroupName = "once" })).Items("SecurityGroups", "SecurityGroup"));
    }

    [Fact]
    public async Task ANonceReplayedOnTheOtherNode_IsCaught()
    {
        // PostgreSQL nodes share the nonces table; SQLite nodes on one data directory share nonces.db.
        var first = _first.Client(_key, SignatureStyle.V1Get);
        var second = _second.Client(_key, SignatureStyle.V1Get);
        using var request = first.Build("DescribeRegions", [], ApiVersions.Ecs);
        var uri = request.RequestUri!;
        Assert.Equal(200, (int)(await first.SendRawAsync(uri)).StatusCode);
        var replay = await second.SendRawAsync(uri);
        Assert.Equal(400, (int)replay.StatusCode);
        Assert.Contains("SignatureNonceUsed", await replay.Content.ReadAsStringAsync());
    }

    private static async Task<string> Outcome(Func<Task> call)
    {
        try
        {
            await call();
            return "ok";
        }
        catch (EcsApiException e)
        {
            return e.Code;
        }
    }
}
