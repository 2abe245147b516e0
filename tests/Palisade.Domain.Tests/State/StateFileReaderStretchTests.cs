using CsCheck;
using Palisade.Domain.State;

namespace Palisade.Domain.Tests.State;

/// <summary>
/// Where two lists of texts differ (<see cref="StateFileReader.Stretch"/>, the join's read from the read
/// before): walked as arrays when both are (twenty-second session), the same stretch as through the
/// lists' indexers (the twin). Texts are compared by reference: a text equal to another but not the same
/// string is another text.
/// </summary>
public sealed class StateFileReaderStretchTests
{
    [Fact]
    public void TheStretchOfTwoArrays_IsTheStretchOfTheLists()
    {
        var texts = Enumerable.Range(0, 6).Select(i => $"text-{i}").ToArray();
        // A list: an index into texts, or -1 for a copy of texts[0] (equal, not the same string).
        var list = Gen.Int[-1, texts.Length - 1].Array[0, 12];
        Gen.Select(list, list, Gen.Bool).Sample((a, b, sameStart) =>
        {
            string[] Texts(int[] indexes) => [.. indexes.Select(i => i < 0 ? new string(texts[0].AsSpan()) : texts[i])];
            var (before, after) = (Texts(a), Texts(b));
            if (sameStart)
                after = [.. before.Take(before.Length / 2), .. after, .. before.Skip(before.Length / 2)]; // a stretch put in the middle
            Assert.Equal(StateFileReader.StretchOfLists(before.ToList(), after.ToList()), StateFileReader.Stretch(before, after));
        }, iter: 20_000);
    }
}
