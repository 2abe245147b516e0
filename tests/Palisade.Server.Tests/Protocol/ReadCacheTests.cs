using CsCheck;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// The read cache (fast path) and the uncached server (its slow twin) answer every read the same,
/// byte for byte after normalising IDs, over random sequences of writes and reads.
/// </summary>
public sealed class ReadCacheTests
{
    [Fact]
    public async Task CachedAndUncached_AnswerTheSame()
    {
        await using var cached = await TestControlPlane.StartAsync();
        await using var uncached = await TestControlPlane.StartAsync(options: new ServerOptions { CacheReads = false });
        var a = new Scenario(cached.Client(cached.NewAccount("same")));
        var b = new Scenario(uncached.Client(uncached.NewAccount("same")));
        var ids = new[] { new Dictionary<string, string>(), new Dictionary<string, string>() };

        async Task<string[]> Both(Func<Scenario, Dictionary<string, string>, Task<EcsResponse>> step) =>
        [
            Normaliser.Normalise((await step(a, ids[0])).Body),
            Normaliser.Normalise((await step(b, ids[1])).Body),
        ];

        await Both(async (s, id) => { id["vpc"] = await s.VpcAsync(); return new EcsResponse(200, "", ""); });
        await Both(async (s, id) => { id["sg"] = await s.GroupAsync(id["vpc"], "cached"); return new EcsResponse(200, "", ""); });

        var steps = Gen.Int[0, 4].Array[40].Single();
        var port = 0;
        foreach (var step in steps)
        {
            port++;
            var answers = step switch
            {
                0 => await Both((s, id) => s.Api.SendAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"], IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "0.0.0.0/0" }))),
                1 => await Both((s, id) => s.Api.SendAsync("RevokeSecurityGroup", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"], IpProtocol = "tcp", PortRange = $"{port - 2}/{port - 2}", SourceCidrIp = "0.0.0.0/0" }))),
                2 => await Both((s, id) => s.Api.SendAsync("ModifySecurityGroupAttribute", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"], Description = $"step {port}" }))),
                3 => await Both((s, id) => s.Api.SendAsync("DescribeSecurityGroups", EcsClient.Flatten(new { RegionId = Region }))),
                _ => await Both((s, id) => s.Api.SendAsync("DescribeSecurityGroupAttribute", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"] }))),
            };
            Assert.Equal(answers[1], answers[0]);
            // Ask again: the second answer of the cached server comes from its cache.
            var again = await Both((s, id) => s.Api.SendAsync("DescribeSecurityGroupAttribute", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"] })));
            Assert.Equal(again[1], again[0]);
            var twice = await Both((s, id) => s.Api.SendAsync("DescribeSecurityGroupAttribute", EcsClient.Flatten(new { RegionId = Region, SecurityGroupId = id["sg"] })));
            Assert.Equal(again[0], twice[0]);
        }
    }
}
