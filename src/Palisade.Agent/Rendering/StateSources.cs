using System.Text;
using System.Text.Json;

namespace Palisade.Agent.Rendering;

/// <summary>Comparing two state file texts without reading them into the domain.</summary>
internal static class StateSources
{
    /// <summary>
    /// Whether two state files hold the same of everything but their <c>PrefixLists</c>: the same
    /// top-level members in the same order, each byte for byte the same JSON. One forward pass of
    /// the reader over each (no document is built) and a byte comparison of each member's raw text
    /// keep this a small part of rendering; a difference in mere formatting only costs the fast
    /// path, never correctness. Text that is not a JSON object is never the same.
    /// </summary>
    /// <para>
    /// First, without reading either (issue 17: after every fetch the agent compared its two whole
    /// state texts, ~400 K characters each at the fleet bench's size, encoded both to UTF-8 and read
    /// both, ~10 ms of its render phase under the fleet's load, for a change that was almost never
    /// one of prefix lists only): where the texts first differ. A difference before the first <c>"PrefixLists"</c> of either text is
    /// outside that member (the root's <c>PrefixLists</c> name is one of those occurrences, and no
    /// string value holds the quoted name unescaped), so they are not the same; only a first
    /// difference at or after it reads both (<see cref="SameButPrefixListsSlow"/>, the twin).
    /// </para>
    public static bool SameButPrefixLists(string before, string after)
    {
        if (ReferenceEquals(before, after))
            return true;
        var b = before.AsSpan();
        var a = after.AsSpan();
        var differs = b.CommonPrefixLength(a);
        if (differs == b.Length && differs == a.Length)
            return true;
        const string Name = "\"PrefixLists\"";
        var (inBefore, inAfter) = (b.IndexOf(Name, StringComparison.Ordinal), a.IndexOf(Name, StringComparison.Ordinal));
        var first = inBefore < 0 ? inAfter : inAfter < 0 ? inBefore : Math.Min(inBefore, inAfter);
        if (first < 0 || differs < first)
            return false;
        return SameButPrefixListsSlow(before, after);
    }

    /// <summary>The twin of <see cref="SameButPrefixLists"/> without its first look: both texts read whole, member by member.</summary>
    internal static bool SameButPrefixListsSlow(string before, string after)
    {
        if (ReferenceEquals(before, after))
            return true;
        try
        {
            var (a, b) = (Members(Encoding.UTF8.GetBytes(before)), Members(Encoding.UTF8.GetBytes(after)));
            return a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && (p.First.Name == "PrefixLists" || p.First.Value.Span.SequenceEqual(p.Second.Value.Span)));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The root object's members in order: name and raw value.</summary>
    private static List<(string Name, ReadOnlyMemory<byte> Value)> Members(byte[] json)
    {
        var members = new List<(string, ReadOnlyMemory<byte>)>();
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("not an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            members.Add((name, json.AsMemory(start, (int)reader.BytesConsumed - start)));
        }
        return members;
    }
}
