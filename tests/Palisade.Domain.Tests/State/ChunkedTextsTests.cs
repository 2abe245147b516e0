using CsCheck;
using Palisade.Domain.State;

namespace Palisade.Domain.Tests.State;

/// <summary>
/// The held union's lists in chunks (<see cref="ChunkedTexts"/>, twenty-third session) against the slow twin,
/// one array: runs of inserts (1–3 texts at the start, the end or anywhere, past the length a chunk is cut at)
/// and puts, each list made from the one before, every list of the run still its own texts afterwards (the
/// chunks they share are never changed), and where each differs from one of the two before it, from itself and
/// from the same texts chunked afresh (<see cref="StateFileReader.Stretch"/> through the shared chunks) as
/// through the lists' indexers.
/// </summary>
public sealed class ChunkedTextsTests
{
    [Fact]
    public void EveryListOfARun_IsItsArray_AndTheirStretchesAreTheIndexers()
    {
        Gen.Select(Gen.Int[0, 300], Gen.Int[1, 60], Gen.Int).Sample((length, steps, seed) =>
        {
            var random = new Random(seed);
            var made = 0;
            string Text() => $"text-{made++}";
            var first = Enumerable.Range(0, length).Select(_ => Text()).ToList();
            var run = new List<(ChunkedTexts Texts, List<string> Twin)> { (ChunkedTexts.Of(first), first) };
            for (var s = 0; s < steps; s++)
            {
                var (texts, twin) = run[^1];
                twin = [.. twin];
                if (twin.Count > 0 && random.Next(4) == 0)
                {
                    var at = random.Next(twin.Count);
                    var text = random.Next(3) == 0 ? new string(twin[at].AsSpan()) : Text(); // an equal text that is another string: another text
                    (texts, twin[at]) = (texts.With(at, text), text);
                }
                else
                {
                    var where = random.Next(3) switch { 0 => 0, 1 => twin.Count, _ => random.Next(twin.Count + 1) };
                    var came = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Text()).ToArray();
                    texts = texts.Inserted(where, came);
                    twin.InsertRange(where, came);
                }
                run.Add((texts, twin));
            }
            foreach (var (texts, twin) in run)
            {
                Assert.Equal(twin.Count, texts.Count);
                Assert.Equal(twin, texts.ToArray());
                Assert.Equal(twin, texts.ToList());
                for (var i = 0; i < twin.Count; i++)
                    Assert.Same(twin[i], texts[i]);
            }
            for (var k = 1; k < run.Count; k++)
            {
                var (before, after) = (run[k - random.Next(1, Math.Min(k, 3) + 1)], run[k]);
                Assert.Equal(StateFileReader.StretchOfLists(before.Twin, after.Twin), StateFileReader.Stretch(before.Texts, after.Texts));
                Assert.Equal(StateFileReader.StretchOfLists(after.Twin, before.Twin), StateFileReader.Stretch(after.Texts, before.Texts));
                // A list and itself (every chunk shared), and the same texts chunked afresh (none shared).
                Assert.Equal((after.Twin.Count, 0, 0), StateFileReader.Stretch(after.Texts, after.Texts));
                Assert.Equal(StateFileReader.StretchOfLists(before.Twin, after.Twin), StateFileReader.Stretch(ChunkedTexts.Of(before.Twin), after.Texts));
            }
        }, iter: 2_000);
    }
}
