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

    /// <summary>
    /// Issue 19: the cache keeps an answer in its rendered pieces; a hit writes them with its own
    /// RequestId in place of the first's, the bytes rendering the answer with that RequestId gives
    /// (the slow twin), wherever the pieces end. With pieces as they ship, every answer is kept.
    /// </summary>
    [Fact]
    public void AHitOnAnAnswerInPieces_IsTheAnswerRenderedWithItsOwnRequestId()
    {
        var items = Gen.String[Gen.Char['\0', '\u07ff'], 0, 30].Select(s => new Palisade.Server.Responses.EcsObject { { "Source", s } }).Array[0, 300];
        Gen.Select(items, Gen.Int[1, 700].Array[0, 2], Gen.Bool).Sample((flows, size, xml) =>
        {
            var pieceBytes = size.Length == 0 ? Palisade.Server.Responses.RenderedAnswer.PieceBytes : size[0];
            var format = xml ? Palisade.Server.Responses.ResponseFormat.Xml : Palisade.Server.Responses.ResponseFormat.Json;
            Palisade.Server.Responses.EcsObject Body(string id) => new() { { "RequestId", id }, { "Flows", Palisade.Server.Responses.EcsList.Of("Flow", flows) } };
            string first = Guid.NewGuid().ToString().ToUpperInvariant(), hit = Guid.NewGuid().ToString().ToUpperInvariant();
            var cache = new ReadCache();
            cache.Put("k", 7, Palisade.Server.Responses.ResponseWriter.Render(format, "R", Body(first), pieceBytes), first);
            if (!cache.TryGet("k", 7, out var entry))
            {
                // Only pieces smaller than a RequestId may split it (then the answer is not kept).
                Assert.True(pieceBytes < 200, $"not kept with pieces of {pieceBytes} bytes");
                return;
            }
            var written = new System.Buffers.ArrayBufferWriter<byte>();
            entry.WriteTo(written, hit);
            var expected = xml ? Palisade.Server.Responses.ResponseWriter.Xml("R", Body(hit)) : Palisade.Server.Responses.ResponseWriter.Json(Body(hit));
            Assert.Equal(expected, written.WrittenSpan.ToArray());
            Assert.Equal(expected.Length, entry.LengthWith(hit));
        }, iter: 200, threads: 1);
    }
}
