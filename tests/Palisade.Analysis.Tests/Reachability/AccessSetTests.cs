using CsCheck;
using Palisade.Analysis.Reachability;
using Palisade.Domain.Networking;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>Intersection, union and difference of access sets against the same operation port by port.</summary>
public sealed class AccessSetTests
{
    private static readonly int[] Ports = [.. Enumerable.Range(1, 40), .. Enumerable.Range(65530, 6)];

    private static readonly Gen<AccessSet> Set =
        from tcp in Gen.Int[0, Ports.Length - 1].Array[0, 8]
        from udp in Gen.Int[0, Ports.Length - 1].Array[0, 8]
        from icmp in Gen.Bool
        select AccessSet.FromAccesses(Accesses(tcp, udp, icmp));

    private static IEnumerable<Access> Accesses(int[] tcp, int[] udp, bool icmp)
    {
        // Pairs of picked ports become ranges; overlapping and adjacent ones are merged by FromAccesses' order.
        IReadOnlyList<PortRange> Ranges(int[] picks) => [.. picks.Chunk(2)
            .Select(c => (Low: Ports[c.Min()], High: Ports[c.Max()]))
            .OrderBy(r => r.Low)
            .Select(r => PortRange.Create(r.Low, r.High))];
        if (tcp.Length > 0)
            yield return new Access(IpProtocol.Tcp, Ranges(tcp));
        if (udp.Length > 0)
            yield return new Access(IpProtocol.Udp, Ranges(udp));
        if (icmp)
            yield return new Access(IpProtocol.Icmp, []);
    }

    /// <summary>
    /// The interner's intersection (a dictionary behind a direct-mapped cache that grows with the distinct
    /// pairs asked: 256, 1,024, 4,096, 16,384 entries) answers as the sets' own, asked once or again, before
    /// and after each growth.
    /// </summary>
    [Fact]
    public void TheInternersIntersectionAndUnion_AgreeWithTheSets_AsTheirCachesGrow()
    {
        Gen.Select(Set.Array[20, 140], Gen.Int[0, int.MaxValue]).Sample((sets, seed) =>
        {
            var interner = new AccessInterner();
            var ids = sets.Select(interner.Intern).ToArray();
            var random = new Random(seed);
            // Every pair (up to ~10,000 distinct ones, past three growths), then a random replay of them.
            var pairs = ids.SelectMany((a, i) => ids.Skip(i + 1).Select(b => (a, b))).ToList();
            foreach (var (a, b) in pairs.Concat(pairs.OrderBy(_ => random.Next())))
            {
                Assert.Equal(interner[a].Intersect(interner[b]), interner[interner.Intersect(a, b)]);
                Assert.Equal(interner[a].Union(interner[b]), interner[interner.Union(a, b)]);
            }
        }, iter: 20, threads: 1);
    }

    [Fact]
    public void SetOperations_AgreeWithPortByPort()
    {
        Gen.Select(Set, Set).Sample((a, b) =>
        {
            foreach (var (result, expected) in new (AccessSet, Func<bool, bool, bool>)[]
                     { (a.Intersect(b), (x, y) => x && y), (a.Union(b), (x, y) => x || y), (a.Except(b), (x, y) => x && !y) })
            {
                foreach (var protocol in new[] { IpProtocol.Tcp, IpProtocol.Udp })
                {
                    foreach (var port in Ports.Concat([41, 100, 65529]))
                        Assert.Equal(expected(a.Contains(protocol, port), b.Contains(protocol, port)), result.Contains(protocol, port));
                }
                Assert.Equal(expected(a.Contains(IpProtocol.Icmp, 0), b.Contains(IpProtocol.Icmp, 0)), result.Contains(IpProtocol.Icmp, 0));
                // A canonical form: equal sets are equal values.
                Assert.Equal(AccessSet.FromAccesses(result.ToAccesses()), result);
            }
        }, iter: 2000, threads: 1);
    }
}
