using System.Text;

namespace Palisade.Domain.Signatures;

/// <summary>
/// RFC 3986 percent-encoding as both signature versions use it: UTF-8 bytes, only
/// <c>A-Z a-z 0-9 - _ . ~</c> left as they are, upper-case hex, space as <c>%20</c> (sdk-wire.md §7).
/// </summary>
public static class PercentEncoding
{
    public static string Encode(string value) =>
        // Nothing to escape (the names and IDs of nearly every parameter): the value itself, no copy (issue 17,
        // eighteenth session: a host's signed request encodes each of its ~25 parameters' names and values).
        value.AsSpan().IndexOfAnyExcept(Unreserved) < 0 ? value : EncodeEach(value);

    private static readonly System.Buffers.SearchValues<char> Unreserved =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~");

    /// <summary>Each rune as it is or escaped (the slow twin of <see cref="Encode"/>'s shortcut).</summary>
    internal static string EncodeEach(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        Span<byte> buffer = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && IsUnreserved((char)rune.Value))
            {
                sb.Append((char)rune.Value);
                continue;
            }
            var length = rune.EncodeToUtf8(buffer);
            for (var i = 0; i < length; i++)
                sb.Append('%').Append(Hex[buffer[i] >> 4]).Append(Hex[buffer[i] & 0xF]);
        }
        return sb.ToString();
    }

    private const string Hex = "0123456789ABCDEF";

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~';

    /// <summary>
    /// Splits <c>a=1&amp;b=2</c> into decoded pairs, in order. '+' is a space (form encoding); bad
    /// escapes are kept as written rather than rejected, so that the signature check decides.
    /// </summary>
    public static List<KeyValuePair<string, string>> ParsePairs(string text)
    {
        // Split without a copy of each part (issue 17, eighteenth session): the name and value are cut
        // from the text once each, and decoded only when they hold an escape or a '+'.
        var rest = text.AsSpan();
        if (rest.StartsWith('?'))
            rest = rest[1..];
        // Sized at once (twenty-third session: a host's poll holds ~40 pairs, and each doubling left the smaller array behind).
        var pairs = new List<KeyValuePair<string, string>>(rest.Count('&') + 1);
        foreach (var range in rest.Split('&'))
        {
            var part = rest[range];
            if (part.Length == 0)
                continue;
            var eq = part.IndexOf('=');
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? [] : part[(eq + 1)..];
            pairs.Add(new(DecodeSpan(name), DecodeSpan(value)));
        }
        return pairs;
    }

    private static string DecodeSpan(ReadOnlySpan<char> s) => s.IndexOfAny('%', '+') < 0 ? s.ToString() : Decode(s.ToString());

    /// <summary>The slow twin of <see cref="ParsePairs"/>: split, cut and decode every part (tests compare them).</summary>
    internal static List<KeyValuePair<string, string>> ParsePairsEach(string text)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (text.StartsWith('?'))
            text = text[1..];
        foreach (var part in text.Split('&'))
        {
            if (part.Length == 0)
                continue;
            var eq = part.IndexOf('=');
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add(new(Decode(name), Decode(value)));
        }
        return pairs;
    }

    public static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
}
