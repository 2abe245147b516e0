using System.Diagnostics;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using Xunit.Abstractions;
using Palisade.Domain.Ecs;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Per-AccessKey rate limits. The server's clock is frozen, so no bucket refills during a test:
/// the counts of admitted and throttled requests are exact, whatever the machine's speed.
/// </summary>
public sealed class ThrottlingTests(ITestOutputHelper output) : ControlPlaneTest
{
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);

    private const int Burst = 50;

    protected override Task<TestControlPlane> StartPlaneAsync() =>
        TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions { Throttling = new Throttling { RequestsPerSecond = 10, Burst = Burst, ThrottledAnswerDelay = TimeSpan.Zero } });

    [Fact]
    public async Task AFloodFromOneKey_IsThrottled_WhileAnotherKeyOfTheSameAccountGoesOn()
    {
        var flooder = Plane.NewAccount("flooder");
        var other = Plane.Accounts.CreateAccessKey(flooder.AccountId);
        var stranger = Plane.NewAccount("stranger");
        var floodApi = Plane.Client(flooder, SignatureStyle.V3, _clock);
        var otherApi = Plane.Client(other, SignatureStyle.V1Get, _clock);
        var strangerApi = Plane.Client(stranger, SignatureStyle.V3, _clock);

        // 400 requests from eight concurrent workers of one key, while the two other keys each make 20 calls.
        var flood = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            var outcomes = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                var response = await floodApi.SendAsync("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou")]);
                outcomes.Add(response.IsSuccess ? "OK" : $"{response.Status} {response.Code}");
            }
            return outcomes;
        }));
        var latencies = new List<double>();
        var others = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            foreach (var api in new[] { otherApi, strangerApi })
            {
                var watch = Stopwatch.StartNew();
                var response = await api.SendAsync("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou")]);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                others.Add(response.IsSuccess ? "OK" : $"{response.Status} {response.Code}");
            }
        }
        var floodOutcomes = (await flood).SelectMany(o => o).ToList();

        Assert.Equal(Burst, floodOutcomes.Count(o => o == "OK"));
        Assert.Equal(400 - Burst, floodOutcomes.Count(o => o == "400 Throttling.User"));
        Assert.All(others, o => Assert.Equal("OK", o));
        latencies.Sort();
        output.WriteLine($"other keys during the flood: {latencies.Count} calls, p50 {latencies[latencies.Count / 2]:F1} ms, max {latencies[^1]:F1} ms");
    }

    [Fact]
    public async Task TheBucket_RefillsAtTheRate_AndTheAnswerIsEcsThrottling()
    {
        var key = Plane.NewAccount();
        var api = Plane.Client(key, SignatureStyle.V3, _clock);
        for (var i = 0; i < Burst; i++)
            await api.CallAsync("DescribeRegions");
        var e = await ApiAssert.FailsAsync(() => api.CallAsync("DescribeRegions"), "Throttling.User", 400);
        Assert.Equal("Request was denied due to user flow control.", e.EcsMessage);

        _clock.Advance(TimeSpan.FromSeconds(1)); // 10 requests per second
        var admitted = 0;
        for (var i = 0; i < 20; i++)
            admitted += (await api.SendAsync("DescribeRegions", [])).IsSuccess ? 1 : 0;
        Assert.Equal(10, admitted);

        _clock.Advance(TimeSpan.FromHours(1)); // never more than the burst, however long the pause
        admitted = 0;
        for (var i = 0; i < Burst + 10; i++)
            admitted += (await api.SendAsync("DescribeRegions", [])).IsSuccess ? 1 : 0;
        Assert.Equal(Burst, admitted);
    }

    [Fact]
    public async Task ForgedAndReplayedRequests_DoNotUseTheKeysRate()
    {
        var key = Plane.NewAccount();
        var api = Plane.Client(key, SignatureStyle.V1Get, _clock);
        var forger = new EcsClient(Plane.Http, new ClientCredentials(key.AccessKeyId, "not-the-secret"), SignatureStyle.V1Get, _clock);
        for (var i = 0; i < Burst * 2; i++)
            Assert.Equal("SignatureDoesNotMatch", (await forger.SendAsync("DescribeRegions", [])).Code);
        using var captured = api.Build("DescribeRegions", [], ApiVersions.Ecs);
        Assert.Equal(200, (int)(await Plane.Http.GetAsync(captured.RequestUri)).StatusCode);
        for (var i = 0; i < Burst * 2; i++)
        {
            var replay = await Plane.Http.GetAsync(captured.RequestUri);
            Assert.Contains("SignatureNonceUsed", await replay.Content.ReadAsStringAsync());
        }
        // The captured request took one token; the key still has the rest of its burst.
        for (var i = 1; i < Burst; i++)
            await api.CallAsync("DescribeRegions");
        await ApiAssert.FailsAsync(() => api.CallAsync("DescribeRegions"), "Throttling.User", 400);
    }

    [Fact]
    public async Task RateZero_TurnsThrottlingOff()
    {
        // A bucket of 5 that would throttle the sixth request, were the rate not 0.
        await using var open = await TestControlPlane.StartAsync(clock: _clock, options: new ServerOptions { Throttling = new Throttling { RequestsPerSecond = 0, Burst = 5 } });
        var api = open.Client(open.NewAccount(), SignatureStyle.V3, _clock);
        for (var i = 0; i < 20; i++)
            await api.CallAsync("DescribeRegions");
    }
}
