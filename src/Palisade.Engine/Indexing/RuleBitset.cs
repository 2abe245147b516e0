using System.Numerics;

namespace Palisade.Engine.Indexing;

/// <summary>Bit operations on rule sets stored as <c>ulong</c> words; bit i is the i-th rule in precedence order.</summary>
internal static class RuleBitset
{
    public static int WordsFor(int ruleCount) => Math.Max(1, (ruleCount + 63) >> 6);

    public static void Set(Span<ulong> bits, int index) => bits[index >> 6] |= 1UL << (index & 63);

    public static void Clear(Span<ulong> bits, int index) => bits[index >> 6] &= ~(1UL << (index & 63));

    public static bool IsSet(ReadOnlySpan<ulong> bits, int index) => (bits[index >> 6] & (1UL << (index & 63))) != 0;

    public static void SetAll(Span<ulong> bits, int ruleCount)
    {
        bits.Clear();
        for (var i = 0; i < ruleCount; i++)
            Set(bits, i);
    }

    public static int Hash(ReadOnlySpan<ulong> bits)
    {
        var hash = new HashCode();
        foreach (var w in bits)
            hash.Add(w);
        return hash.ToHashCode();
    }

    public static int PopCount(ReadOnlySpan<ulong> bits)
    {
        var n = 0;
        foreach (var w in bits)
            n += BitOperations.PopCount(w);
        return n;
    }
}
