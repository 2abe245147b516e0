using Palisade.Domain.Quotas;
using System.Text.Json;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using Palisade.Storage.Records;
using Palisade.TestKit;
using Microsoft.Extensions.DependencyInjection;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// What one tenant can cost the others (issue 19): refused calls that filled the trail, more keys
/// for more rate. The server's clock is frozen, so every count of admitted calls is exact.
/// </summary>
public sealed class TenantCostTests : IAsyncLifetime
{
    private const string Ram = ApiVersions.Ram;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private TestControlPlane _plane = null!;

    public async Task InitializeAsync() => _plane = await TestControlPlane.StartAsync(clock: _clock);

    public async Task DisposeAsync() => await _plane.DisposeAsync();

    private IReadOnlyList<ActionTrailRecord> Trail(long accountId) =>
        _plane.Store.Read(s => s.ListTrail(new ActionTrailQuery(accountId, null, null, null, null, 1000)));

    [Fact]
    public async Task RefusedCalls_StoreLittle_AndOnlyAtTheAccountsRefusalRate()
    {
        var owner = _plane.NewAccount("refused");
        var reader = _plane.Accounts.CreateAccessKey(owner.AccountId, readOnly: true);
        var api = _plane.Client(reader, SignatureStyle.V3, _clock);
        var huge = new string('x', 30 * 1024);
        for (var i = 0; i < 200; i++)
        {
            var response = await api.SendAsync("CreateSecurityGroup",
                [new("RegionId", "cn-hangzhou"), new("Description", huge), new("SecurityGroupName", "sg" + huge[..1000]), new("Tag.1.Key", huge)]);
            Assert.Equal("Forbidden.RAM", response.Code);
        }

        var events = Trail(owner.AccountId);
        var burst = new Throttling().RefusalEventsBurst;
        Assert.Equal(burst, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("Forbidden.RAM", e.Entry.ResultCode);
            var parameters = JsonDocument.Parse(e.Entry.Parameters).RootElement;
            // Every name is kept, and the values together stay within about 1 KB.
            Assert.Equal(["RegionId", "Description", "SecurityGroupName", "Tag.1.Key"], parameters.EnumerateObject().Select(p => p.Name));
            Assert.InRange(parameters.EnumerateObject().Sum(p => p.Value.GetString()!.Length), 1, 1024 + 3);
        });
        var totals = _plane.Services.GetRequiredService<RefusalTrail>().Of(owner.AccountId);
        Assert.Equal(burst, totals.Written);
        Assert.Equal(200 - burst, totals.Dropped);
        Assert.InRange(totals.Bytes, burst * 100, burst * 1200);

        // The account's refusals refill at their rate; another account's are not affected.
        _clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
            await api.SendAsync("DeleteSecurityGroup", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", "sg-bp1aaaaaaaaaaaaaaaaa")]);
        Assert.Equal(burst + (int)new Throttling().RefusalEventsPerSecond, Trail(owner.AccountId).Count);
        var other = _plane.NewAccount("other");
        var otherReader = _plane.Client(_plane.Accounts.CreateAccessKey(other.AccountId, readOnly: true), SignatureStyle.V3, _clock);
        await otherReader.SendAsync("DeleteSecurityGroup", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", "sg-bp1aaaaaaaaaaaaaaaaa")]);
        Assert.Single(Trail(other.AccountId));
    }

    [Fact]
    public async Task AnAccount_HoldsAtMostItsQuotaOfKeys()
    {
        var aliceKey = _plane.NewAccount("alice");
        var alice = _plane.Client(aliceKey, SignatureStyle.V3, _clock);
        var limit = new Limits().AccessKeysPerAccount;
        Assert.Equal(20, limit);
        for (var i = 1; i < limit; i++)
            await alice.CallAsync("CreateAccessKey", new { }, Ram);
        var e = await ApiAssert.FailsAsync(() => alice.CallAsync("CreateAccessKey", new { }, Ram), "LimitExceeded.User.AccessKey", 409);
        Assert.Contains("20", e.EcsMessage);
        Assert.Equal(limit, (await alice.CallAsync("ListAccessKeys", new { }, Ram)).Items("AccessKeys", "AccessKey").Count());
        // Deleting one makes room again.
        var keys = (await alice.CallAsync("ListAccessKeys", new { }, Ram)).Items("AccessKeys", "AccessKey").Select(k => k.Str("AccessKeyId")).ToList();
        await alice.CallAsync("DeleteAccessKey", new { UserAccessKeyId = keys.First(k => k != aliceKey.AccessKeyId) }, Ram);
        await alice.CallAsync("CreateAccessKey", new { }, Ram);
    }

    [Fact]
    public async Task MoreKeys_DoNotBuyMoreRate_TheAccountHasItsOwnLimit()
    {
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions
        {
            Throttling = new Throttling { RequestsPerSecond = 1, Burst = 3, AccountRequestsPerSecond = 1, AccountBurst = 3, ThrottledAnswerDelay = TimeSpan.Zero },
        });
        var first = plane.NewAccount("many-keys");
        var keys = new[] { first, plane.Accounts.CreateAccessKey(first.AccountId), plane.Accounts.CreateAccessKey(first.AccountId) };
        var admitted = 0;
        foreach (var key in keys)
        {
            var api = plane.Client(key, SignatureStyle.V3, _clock);
            for (var i = 0; i < 3; i++)
                admitted += (await api.SendAsync("DescribeRegions", [])).IsSuccess ? 1 : 0;
        }
        Assert.Equal(3, admitted);
        // Another account is not slowed by this one.
        var stranger = plane.Client(plane.NewAccount("stranger"), SignatureStyle.V3, _clock);
        for (var i = 0; i < 3; i++)
            await stranger.CallAsync("DescribeRegions");
    }

    /// <summary>
    /// Issue 19, sixteenth session: a request is counted once, but an answer of 100 KB costs the node's
    /// send (and the network) a hundred small ones. An account is served so many bytes a second.
    /// </summary>
    [Fact]
    public async Task LargeAnswers_SpendTheirAccountsByteRate_WhileOtherAccountsAreServed()
    {
        const double BytesPerSecond = 1000, Burst = 20_000;
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions
        {
            Throttling = new Throttling { AccountBytesPerSecond = BytesPerSecond, AccountBytesBurst = Burst, ThrottledAnswerDelay = TimeSpan.Zero },
        });
        var heavyKey = plane.NewAccount("heavy");
        var heavy = plane.Client(heavyKey, SignatureStyle.V3, _clock);
        var first = await heavy.SendAsync("DescribeRegions", []);
        Assert.True(first.IsSuccess);
        // Every answer of DescribeRegions has one length (its RequestId is a UUID): the first k answers
        // use the burst, the next is refused, with the key's and the account's request rates far off.
        var length = System.Text.Encoding.UTF8.GetByteCount(first.Body);
        var expected = (int)Math.Ceiling(Burst / length);
        Assert.InRange(expected, 3, 100);
        var admitted = 1;
        EcsResponse last;
        while ((last = await heavy.SendAsync("DescribeRegions", [])).IsSuccess && admitted < 1000)
            admitted++;
        Assert.Equal(expected, admitted);
        Assert.Equal("Throttling.User", last.Code);
        Assert.Equal(400, last.Status);
        // A second key of the account shares its bytes.
        var second = plane.Client(plane.Accounts.CreateAccessKey(heavyKey.AccountId), SignatureStyle.V3, _clock);
        Assert.Equal("Throttling.User", (await second.SendAsync("DescribeRegions", [])).Code);
        // Another account is served meanwhile.
        var stranger = plane.Client(plane.NewAccount("stranger"), SignatureStyle.V3, _clock);
        for (var i = 0; i < expected; i++)
            await stranger.CallAsync("DescribeRegions");
        // The debt is paid at the rate: what was served past the burst, and the refusals' own answers.
        _clock.Advance(TimeSpan.FromSeconds(Burst / BytesPerSecond * 2));
        Assert.True((await heavy.SendAsync("DescribeRegions", [])).IsSuccess);
    }

    /// <summary>Issue 19: an analysis cost as much as a thousand Describes yet counted as one request.</summary>
    [Fact]
    public async Task Analyses_SpendTheirAccountsBudget_WhileCheapCallsAndOtherAccountsGoOn()
    {
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions
        {
            // Half a millisecond of analysis at once, refilled at a millisecond per second.
            Throttling = new Throttling { AnalysisSecondsPerSecond = 0.001, AnalysisBurstSeconds = 0.0005, ThrottledAnswerDelay = TimeSpan.Zero },
        });
        var noisy = new Scenario(plane.Client(plane.NewAccount("noisy"), SignatureStyle.V3, _clock));
        var vpc = await noisy.VpcAsync();
        var sg = await noisy.GroupAsync(vpc);
        await noisy.RunAsync(sg, await noisy.VSwitchAsync(vpc), amount: 5);
        object Impact(string port) => new { RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8" };

        await noisy.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(Impact("22")));
        var refused = await ApiAssert.FailsAsync(() => noisy.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(Impact("23"))), "Throttling.Analysis", 400);
        Assert.Contains("analysis", refused.EcsMessage, StringComparison.Ordinal);
        await ApiAssert.FailsAsync(() => noisy.Api.CallAsync("ExportSecurityState", new { RegionId = Region }), "Throttling.Analysis", 400);
        // The question asked before is in the read cache (the revision stands), but not free: a hit is
        // charged what rendering its answer cost, and the budget is spent.
        await ApiAssert.FailsAsync(() => noisy.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(Impact("22"))), "Throttling.Analysis", 400);
        // Cheap calls go on, and so does another account's analysis.
        await noisy.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region });
        var quiet = new Scenario(plane.Client(plane.NewAccount("quiet"), SignatureStyle.V3, _clock));
        await quiet.Api.CallAsync("ExportSecurityState", new { RegionId = Region });
        // The budget refills with time: a day repays any debt. The first analysis is charged the CPU it
        // used, its JIT included when it is the test process's first (seconds on a loaded machine), which
        // ten minutes at a millisecond per second (0.6 s) did not always repay.
        _clock.Advance(TimeSpan.FromDays(1));
        await noisy.Api.CallAsync("ExportSecurityState", new { RegionId = Region });
    }

    [Fact]
    public async Task InstanceNamePatterns_AreBoundedAsNamesAre()
    {
        var api = _plane.Client(_plane.NewAccount("patterns"), SignatureStyle.V3, _clock);
        await api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceName = "*" + new string('a', 126) + "*" });
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceName = new string('a', 129) }), "InvalidParameter", 400);
        var huge = string.Concat(Enumerable.Repeat("a*", 300_000));
        var e = await ApiAssert.FailsAsync(() => api.CallAsync("DescribeInstances", new { RegionId = Region, InstanceName = huge }), "InvalidParameter", 400);
        Assert.Contains("128", e.EcsMessage, StringComparison.Ordinal);
    }

    /// <summary>Issue 19: 300 classic instances in 0.11 s, their public addresses from the one shared pool.</summary>
    [Fact]
    public async Task Instances_AreCappedPerAccountAndRegion()
    {
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, limits: new Limits { InstancesPerRegion = 5 });
        var greedy = new Scenario(plane.Client(plane.NewAccount("greedy"), SignatureStyle.V3, _clock));
        var classic = await greedy.GroupAsync(null, "classic");
        await greedy.RunAsync(classic, null, amount: 4);
        var e = await ApiAssert.FailsAsync(() => greedy.RunAsync(classic, null, amount: 2), "QuotaExceed.Instance", 403);
        Assert.Contains("5", e.EcsMessage, StringComparison.Ordinal);
        await greedy.RunAsync(classic, null, amount: 1);
        await ApiAssert.FailsAsync(() => greedy.RunAsync(classic, null, amount: 1), "QuotaExceed.Instance", 403);
        Assert.Equal(5, plane.Store.Read(s => s.Instances.Count(AccountOf(plane, "greedy"), Region)));
        // Another account has its own quota.
        var other = new Scenario(plane.Client(plane.NewAccount("other"), SignatureStyle.V3, _clock));
        await other.RunAsync(await other.GroupAsync(null, "classic"), null, amount: 5);
    }

    [Fact]
    public async Task NetworkInterfaces_AreCappedPerAccountAndRegion_AndARefusalCreatesNothing()
    {
        await using var plane = await TestControlPlane.StartAsync(clock: _clock, limits: new Limits { NetworkInterfacesPerRegion = 3 });
        var greedy = new Scenario(plane.Client(plane.NewAccount("greedy"), SignatureStyle.V3, _clock));
        var vpc = await greedy.VpcAsync();
        var vsw = await greedy.VSwitchAsync(vpc);
        var sg = await greedy.GroupAsync(vpc);
        // An instance's primary interface comes with the instance: it does not count.
        await greedy.RunAsync(sg, vsw, amount: 2);
        Task<JsonElement> Create() => greedy.Api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = sg });
        for (var i = 0; i < 3; i++)
            await Create();
        var before = plane.Store.Read(s => s.NetworkInterfaces.List(AccountOf(plane, "greedy"), Region).Count);
        var e = await ApiAssert.FailsAsync(Create, "MaxEniCountExceeded", 403);
        Assert.Contains("3", e.EcsMessage, StringComparison.Ordinal);
        Assert.Equal(before, plane.Store.Read(s => s.NetworkInterfaces.List(AccountOf(plane, "greedy"), Region).Count));
        // Deleting one makes room again; another account has its own quota.
        var eni = (await greedy.Api.CallAsync("DescribeNetworkInterfaces", new { RegionId = Region, Type = "Secondary" }))
            .Items("NetworkInterfaceSets", "NetworkInterfaceSet").First().Str("NetworkInterfaceId");
        await greedy.Api.CallAsync("DeleteNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni });
        await Create();
        var other = new Scenario(plane.Client(plane.NewAccount("other"), SignatureStyle.V3, _clock));
        var otherVpc = await other.VpcAsync();
        var otherVsw = await other.VSwitchAsync(otherVpc);
        var otherSg = await other.GroupAsync(otherVpc);
        for (var i = 0; i < 3; i++)
            await other.Api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = otherVsw, SecurityGroupId = otherSg });
    }

    private static long AccountOf(TestControlPlane plane, string name) => plane.Store.Read(s => s.FindAccountByName(name))!.AccountId;
}
