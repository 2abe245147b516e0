using CsCheck;
using Palisade.Domain.State;

namespace Palisade.Domain.Tests.State;

/// <summary>
/// A part's ID list rebuilt from a difference in chunks (<see cref="PartDifference.Apply(ChunkedTexts, PartDifference.Lists)"/>,
/// twenty-fourth session: a join inserts into the chunk it goes into) against the slow twin, the list as one array
/// (<see cref="PartDifference.Apply(IReadOnlyList{string}, PartDifference.Lists)"/>): runs of differences applied in a
/// row, each to the list the one before made — joins of one to three IDs (at the start, the end, anywhere, together or
/// apart), leaves, both, nothing, and differences that do not fit (an ID the list holds added again, two added the
/// same, positions not rising or past the end, an ID removed the list lacks) — the same list or null from both; every
/// list of the run still its own IDs afterwards (the chunks they share never changed); and a join of one ID into a
/// list of several chunks allocates less than half the list's references (a chunk and the spine, not the list).
/// </summary>
public sealed class PartDifferenceChunkedTests
{
    [Fact]
    public void ADifferenceAppliedInChunks_IsTheDifferenceAppliedToTheArray()
    {
        var (joins, shared, small, refused) = (0, 0, 0, 0);
        Gen.Select(Gen.Int[0, 1000], Gen.Int[1, 40], Gen.Int).Sample((length, steps, seed) =>
        {
            var random = new Random(seed);
            var made = 0;
            string Id() => $"i-{made++}";
            // The first list as it comes whole (not made by Apply: its IDs checked with a set once).
            var first = Enumerable.Range(0, length).Select(_ => Id()).ToArray();
            var run = new List<(ChunkedTexts Chunked, string[] Array)> { (ChunkedTexts.Of(first), first) };
            for (var s = 0; s < steps; s++)
            {
                var (chunked, array) = run[^1];
                var ids = array.ToList();
                var kind = random.Next(10);
                PartDifference.Lists difference;
                if (kind < 6)
                {
                    // A join: IDs new to the list at rising positions, now and then an ID it holds or one twice (no fit).
                    var wanted = new List<string>(ids);
                    for (var k = random.Next(1, 4); k > 0; k--)
                    {
                        var at = random.Next(3) switch { 0 => 0, 1 => wanted.Count, _ => random.Next(wanted.Count + 1) };
                        wanted.Insert(at, Id());
                    }
                    difference = PartDifference.Between(ids, wanted)!;
                    if (kind == 5 && ids.Count > 0)
                        difference = difference with { Added = [.. difference.Added.Select((a, n) => n == 0 ? (a.Position, ids[random.Next(ids.Count)]) : a)] };
                    else if (kind == 4 && difference.Added.Count > 1)
                        difference = difference with { Added = [.. difference.Added.Select((a, n) => n == 1 ? (a.Position, difference.Added[0].Id) : a)] };
                }
                else if (kind < 8 && ids.Count > 0)
                {
                    // A leave, with a join now and then.
                    var wanted = ids.Where(_ => random.Next(Math.Max(2, ids.Count / 3)) > 0).ToList();
                    if (kind == 7)
                        wanted.Insert(random.Next(wanted.Count + 1), Id());
                    difference = PartDifference.Between(ids, wanted)!;
                }
                else if (kind == 8)
                {
                    // Positions that do not fit: not rising, or past the end.
                    var (a, b) = (Id(), Id());
                    difference = random.Next(2) == 0
                        ? new PartDifference.Lists([], [(Math.Min(1, ids.Count), a), (0, b)])
                        : new PartDifference.Lists([], [(ids.Count + 1, a)]);
                }
                else
                    difference = random.Next(2) == 0 ? PartDifference.Lists.None : new PartDifference.Lists([Id()], []);
                var twin = PartDifference.Apply(array, difference);
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var next = PartDifference.Apply(chunked, difference);
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                if (twin is null)
                {
                    Assert.Null(next);
                    refused++;
                    continue;
                }
                Assert.NotNull(next);
                Assert.Equal(twin, next.ToArray());
                if (difference.Removed.Count == 0 && difference.Added.Count > 0)
                {
                    joins++;
                    // Once the list before is one Apply made (its IDs known to be each once): the chunk the ID went into (at
                    // most twice a chunk's length) and the spine made, not the whole list (a reference each, 8 bytes).
                    if (run.Count > 1 && chunked.Count >= 600 && difference.Added.Count == 1)
                    {
                        // (Counted, not asserted each: now and then the weak table of lists Apply made grows beside it.)
                        small += allocated < chunked.Count * 8 / 2 ? 1 : 0;
                        shared++;
                    }
                }
                run.Add((next, twin));
            }
            foreach (var (chunked, array) in run)
                Assert.Equal(array, chunked.ToArray());
        }, iter: 1500, print: x => $"length {x.Item1}, {x.Item2} steps, seed {x.Item3}");
        Assert.True(joins > 10000 && shared > 1000 && refused > 5000, $"{joins} joins ({shared} of them checked), {refused} refused");
        Assert.True(small > shared * 0.95, $"{small} of {shared} joins into a list of several chunks allocated less than half its references");
    }
}
